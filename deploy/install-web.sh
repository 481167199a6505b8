#!/usr/bin/env bash
# Installs the dashboard's front-end libraries from the npm registry (pinned by
# services/monitord/web/package-lock.json) and copies the files the page loads into its lib/
# folder, which monitord serves (never a CDN, nothing fetched at run time). Idempotent: with
# node_modules in place and the lock unchanged it installs nothing. Needs Node.js and npm
# (Debian's nodejs and npm, or the machine's own).
set -euo pipefail
cd "$(dirname "$0")/../services/monitord/web"

if ! command -v npm >/dev/null; then
  echo "install-web.sh: npm is missing (apt-get install nodejs npm)" >&2
  exit 1
fi
stamp=node_modules/.package-lock.json
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json .installed-lock 2>/dev/null; then
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json .installed-lock
fi
mkdir -p lib
for f in uplot/dist/uPlot.iife.min.js uplot/dist/uPlot.min.css cytoscape/dist/cytoscape.min.js; do
  cp -u "node_modules/$f" lib/
done
echo "install-web.sh: the dashboard's libraries are in services/monitord/web/lib"
