#!/usr/bin/env bash
# The Docker engine for the container tests and for users without one, from Debian 12's packages.
#
#   deploy/docker-engine.sh install      docker.io, docker-compose (1.29) and debootstrap
#   deploy/docker-engine.sh start        install, then start dockerd unless a daemon answers;
#                                        prints "started" when this call started it
#   deploy/docker-engine.sh stop         stop the dockerd that `start` started (no other)
#   deploy/docker-engine.sh base-image   make debian:bookworm-slim when the engine lacks it: there
#                                        is no registry to pull from, so it is debootstrapped
#
# The Debian client (/usr/bin/docker, 20.10) is used throughout: it matches the daemon and builds
# with the daemon's own BuildKit. Needs root (dockerd) or sudo.
set -euo pipefail

DOCKER=/usr/bin/docker
STATE_DIR=/run/netmarket-dockerd
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "docker-engine.sh: run as root or install sudo" >&2; exit 1; }
  SUDO="sudo"
fi

say() { echo "docker-engine.sh: $*" >&2; }

install() {
  local missing=()
  for p in docker.io docker-compose debootstrap; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

answers() { $SUDO "$DOCKER" info >/dev/null 2>&1; }

start() {
  install
  if answers; then return 0; fi
  # Debian's package starts dockerd through systemd where there is one; here there may be none.
  $SUDO mkdir -p "$STATE_DIR"
  $SUDO sh -c "dockerd >'$STATE_DIR/dockerd.log' 2>&1 & echo \$! >'$STATE_DIR/pid'"
  local tries=0
  until answers; do
    tries=$((tries + 1))
    if [ "$tries" -gt 300 ] || ! $SUDO kill -0 "$(cat "$STATE_DIR/pid")" 2>/dev/null; then
      say "dockerd did not start; its log ($STATE_DIR/dockerd.log) ends:"
      $SUDO tail -n 20 "$STATE_DIR/dockerd.log" >&2 || true
      return 1
    fi
    # Polling a daemon that is starting: there is nothing to wait on but its socket.
    sleep 0.1
  done
  echo started
}

stop() {
  [ -f "$STATE_DIR/pid" ] || return 0
  local pid
  pid="$(cat "$STATE_DIR/pid")"
  $SUDO kill "$pid" 2>/dev/null || true
  local tries=0
  while $SUDO kill -0 "$pid" 2>/dev/null && [ "$tries" -lt 300 ]; do
    tries=$((tries + 1))
    sleep 0.1
  done
  $SUDO rm -f "$STATE_DIR/pid"
}

base_image() {
  if $SUDO "$DOCKER" image inspect debian:bookworm-slim >/dev/null 2>&1; then return 0; fi
  say "building debian:bookworm-slim with debootstrap (no registry to pull it from)"
  local dir
  dir="$(mktemp -d /var/tmp/netmarket-rootfs.XXXXXX)"
  # shellcheck disable=SC2064
  trap "$SUDO rm -rf '$dir'" RETURN
  $SUDO debootstrap --variant=minbase bookworm "$dir" http://deb.debian.org/debian >/dev/null
  # What the official slim image drops: apt lists and caches, documentation.
  $SUDO rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/*.bin "$dir"/usr/share/doc/* \
    "$dir"/usr/share/man/*
  $SUDO tar -C "$dir" -c . | $SUDO "$DOCKER" import -c 'CMD ["bash"]' - debian:bookworm-slim >/dev/null
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  base-image) base_image ;;
  *) echo "usage: deploy/docker-engine.sh install|start|stop|base-image" >&2; exit 2 ;;
esac
