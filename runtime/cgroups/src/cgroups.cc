// cgroup placement: written next.
