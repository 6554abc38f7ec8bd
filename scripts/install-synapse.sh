#!/bin/sh
# Installs Synapse from PyPI into a virtualenv under .cache (reused when present), for the tests
# that run real homeservers. Prints the venv's path on the last line.
set -eu

SYNAPSE_VERSION="${SYNAPSE_VERSION:-1.163.2}"
root=$(cd "$(dirname "$0")/.." && pwd)
venv="${ATLAS_SYNAPSE_VENV:-$root/.cache/synapse-venv}"

# The installed distribution's version: synapse.__version__ appends git details when the venv sits
# inside a git checkout (as .cache does), so it never equals the plain release number.
installed_version() {
  "$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("matrix-synapse"))' 2>/dev/null
}

# psycopg2: Synapse's PostgreSQL driver (the deploy tests run Synapse on PostgreSQL, as the stack does).
PSYCOPG2_VERSION=2.9.10

# The deploy tests run Synapse as an unprivileged user (as its image does), so the venv's interpreter
# must be one every user can run: not one under root's home, where pyenv puts its own.
runs_unprivileged() {
  [ "$(id -u)" -ne 0 ] || setpriv --reuid=65534 --regid=65534 --clear-groups "$venv/bin/python" -c '' 2>/dev/null
}

if [ -x "$venv/bin/python" ] && [ "$(installed_version)" = "$SYNAPSE_VERSION" ] && runs_unprivileged; then
  if ! "$venv/bin/python" -c 'import psycopg2' 2>/dev/null; then
    "$venv/bin/pip" install -q "psycopg2-binary==$PSYCOPG2_VERSION" >&2
  fi
  echo "synapse $SYNAPSE_VERSION: present in $venv" >&2
  echo "$venv"
  exit 0
fi

if [ -z "${PYTHON:-}" ] && [ -x /usr/bin/python3 ]; then
  python=/usr/bin/python3
else
  python=${PYTHON:-python3}
fi
if ! "$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)'; then
  echo "error: Synapse $SYNAPSE_VERSION needs Python 3.10 or newer; set PYTHON to one" >&2
  exit 1
fi
echo "synapse $SYNAPSE_VERSION: installing into $venv" >&2
rm -rf "$venv"
"$python" -m venv "$venv"
"$venv/bin/pip" install -q --upgrade pip >&2
"$venv/bin/pip" install -q "matrix-synapse==$SYNAPSE_VERSION" "psycopg2-binary==$PSYCOPG2_VERSION" >&2
echo "synapse $(installed_version) installed" >&2
echo "$venv"
