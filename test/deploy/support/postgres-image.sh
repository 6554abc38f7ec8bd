#!/bin/sh
# Stand-in for the postgres image's entrypoint, with Debian's PostgreSQL: on an empty data folder,
# initdb with POSTGRES_INITDB_ARGS (UTF8, C collation), the superuser POSTGRES_USER with the
# password from POSTGRES_PASSWORD_FILE, password authentication for connections over the network
# and trust on the local socket, as the image does; then the server, as the postgres user.
set -eu
for bin in /usr/lib/postgresql/*/bin; do :; done
[ -x "$bin/postgres" ] || { echo "PostgreSQL is not installed (apt-get install postgresql)" >&2; exit 1; }
data=${PGDATA:-/var/lib/postgresql/data}
mkdir -p "$data" /var/run/postgresql
chown postgres:postgres "$data" /var/run/postgresql
chmod 0700 "$data"
if [ ! -s "$data/PG_VERSION" ]; then
  umask 077
  head -n 1 "$POSTGRES_PASSWORD_FILE" >/tmp/pwfile
  chown postgres /tmp/pwfile
  # shellcheck disable=SC2086 # POSTGRES_INITDB_ARGS is a list of arguments, as in the image.
  setpriv --reuid=postgres --regid=postgres --init-groups "$bin/initdb" -D "$data" \
    -U "${POSTGRES_USER:-postgres}" --pwfile=/tmp/pwfile --auth-local=trust --auth-host=scram-sha-256 \
    ${POSTGRES_INITDB_ARGS:-} >/dev/null
  rm -f /tmp/pwfile
  echo "host all all all scram-sha-256" >>"$data/pg_hba.conf"
fi
exec setpriv --reuid=postgres --regid=postgres --init-groups "$bin/postgres" -D "$data" -c listen_addresses='*'
