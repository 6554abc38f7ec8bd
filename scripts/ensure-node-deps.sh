#!/bin/sh
# Installs the npm packages when node_modules is missing or older than the lockfile.
set -eu
cd "$(dirname "$0")/.."

major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 20 ]; then
  echo "error: Atlas needs Node.js 20.19 or newer (found $(node --version))" >&2
  exit 1
fi
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "npm packages: installing" >&2
  npm ci --no-audit --no-fund >&2
fi
