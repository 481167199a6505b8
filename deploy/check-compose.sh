#!/usr/bin/env bash
# Fails when the root docker-compose.yml is not what `marketctl compose` writes for the default
# scenario today. Usage: deploy/check-compose.sh <marketctl binary>
set -euo pipefail
cd "$(dirname "$0")/.."
marketctl="$1"
if ! diff -u docker-compose.yml <("$marketctl" compose deploy/scenarios/default.yaml); then
  echo "docker-compose.yml is out of date: run" \
    "\`marketctl compose deploy/scenarios/default.yaml -o docker-compose.yml\` at the repository root" >&2
  exit 1
fi
echo "docker-compose.yml is up to date"
