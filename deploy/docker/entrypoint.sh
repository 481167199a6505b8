#!/bin/sh
# The image's entrypoint: runs one of netmarket's binaries with its arguments.
set -e
case "${1:-}" in
  exchanged | netproxy | validatord | agentd | monitord | marketctl) exec "$@" ;;
  "" | -h | --help | help)
    echo "usage: docker run netmarket <exchanged|netproxy|validatord|agentd|monitord|marketctl> [options]"
    echo "each prints its options with --help"
    exit 0 ;;
  *)
    echo "netmarket: '$1' is none of exchanged, netproxy, validatord, agentd, monitord, marketctl" >&2
    exit 2 ;;
esac
