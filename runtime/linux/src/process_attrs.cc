// process attributes: written next.
