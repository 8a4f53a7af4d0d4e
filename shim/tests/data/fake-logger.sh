#!/bin/sh
# A containerd binary logger for the shim's tests: records its argv and
# environment, says it is ready by closing fd 5, then copies the container's
# stdout (fd 3) and stderr (fd 4) into files next to itself, named by
# CONTAINER_ID. The directory comes from the `dir` argument.
dir=.
while [ $# -gt 1 ]; do
  [ "$1" = dir ] && dir=$2
  shift 2
done
env | sort > "$dir/$CONTAINER_ID.env"
echo "$0" > "$dir/$CONTAINER_ID.argv0"
exec 5>&-
cat <&3 > "$dir/$CONTAINER_ID.out" &
cat <&4 > "$dir/$CONTAINER_ID.err" &
wait
echo done > "$dir/$CONTAINER_ID.done"
