// container lifecycle: written next.
