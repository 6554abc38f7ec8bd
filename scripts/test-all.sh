#!/bin/sh
# The whole test suite, from a fresh clone: installs what the tests need (npm packages, system
# packages, Synapse), then runs lint, typecheck, unit and integration tests.
set -eu
cd "$(dirname "$0")/.."

sh scripts/ensure-node-deps.sh
sh scripts/install-system-deps.sh
ATLAS_SYNAPSE_VENV=$(sh scripts/install-synapse.sh | tail -n 1)
export ATLAS_SYNAPSE_VENV

npm run check
npm run test:integration
