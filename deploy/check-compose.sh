#!/usr/bin/env bash
# Fails when the root docker-compose.yml, or deploy/prometheus.yml, is not what `marketctl
# compose` (or `marketctl prometheus`) writes for the default scenario today; then checks the
# Prometheus file with promtool where it is installed (deploy/install-deps.sh installs it).
# Usage: deploy/check-compose.sh <marketctl binary>
set -euo pipefail
cd "$(dirname "$0")/.."
marketctl="$1"
if ! diff -u docker-compose.yml <("$marketctl" compose deploy/scenarios/default.yaml); then
  echo "docker-compose.yml is out of date: run" \
    "\`marketctl compose deploy/scenarios/default.yaml -o docker-compose.yml\` at the repository root" >&2
  exit 1
fi
echo "docker-compose.yml is up to date"
if ! diff -u deploy/prometheus.yml <("$marketctl" prometheus deploy/scenarios/default.yaml); then
  echo "deploy/prometheus.yml is out of date: run" \
    "\`marketctl prometheus deploy/scenarios/default.yaml -o deploy/prometheus.yml\` at the repository root" >&2
  exit 1
fi
echo "deploy/prometheus.yml is up to date"
if command -v promtool >/dev/null; then
  promtool check config --syntax-only deploy/prometheus.yml
elif [ "${CI:-}" = "true" ]; then
  echo "promtool is missing, and CI=true requires the check (deploy/install-deps.sh installs it)" >&2
  exit 1
else
  echo "promtool is missing here: the Prometheus file's syntax is not checked"
fi
