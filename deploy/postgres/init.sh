#!/bin/sh
# The `init` service: runs once before Synapse and Atlas start, every time the stack comes up.
#  - gives Synapse's data volume to Synapse's UID (the volume starts out owned by root);
#  - creates the synapse and atlas roles and databases, UTF8 with C collation, or checks that the
#    existing ones are so (Synapse misbehaves on other collations and refuses to start on them);
#  - sets the role passwords from the secret files, so a restored or rotated secret just works.
# Idempotent. Needs psql 15 or newer (\getenv), PGHOST/PGPORT/PGUSER, and the *_FILE variables.
set -eu

die() {
  printf 'init: error: %s\n' "$*" >&2
  exit 1
}

read_secret() {
  [ -r "$1" ] || die "cannot read the secret file $1; run setup.sh on the host"
  head -n 1 "$1"
}

if [ -n "${SYNAPSE_DATA_DIR:-}" ]; then
  owner="${SYNAPSE_UID:-991}:${SYNAPSE_GID:-991}"
  [ -d "$SYNAPSE_DATA_DIR" ] || die "$SYNAPSE_DATA_DIR is not mounted"
  if [ "$(stat -c %u:%g "$SYNAPSE_DATA_DIR")" != "$owner" ]; then
    echo "init: giving $SYNAPSE_DATA_DIR to $owner"
    chown -R "$owner" "$SYNAPSE_DATA_DIR" || die "cannot chown $SYNAPSE_DATA_DIR"
  fi
fi

PGPASSWORD=$(read_secret "${POSTGRES_PASSWORD_FILE:?POSTGRES_PASSWORD_FILE is not set}")
export PGPASSWORD
# The synapse secret is a pgpass line (*:*:*:synapse:password); the password is the last field.
SYNAPSE_DB_PASSWORD=$(read_secret "${SYNAPSE_DB_PASSWORD_FILE:?SYNAPSE_DB_PASSWORD_FILE is not set}" | cut -d: -f5)
ATLAS_DB_PASSWORD=$(read_secret "${ATLAS_DB_PASSWORD_FILE:?ATLAS_DB_PASSWORD_FILE is not set}")
if [ -z "$SYNAPSE_DB_PASSWORD" ] || [ -z "$ATLAS_DB_PASSWORD" ]; then die "a database password file is empty"; fi
export SYNAPSE_DB_PASSWORD ATLAS_DB_PASSWORD

tries=0
until psql -d postgres -Atqc 'select 1' >/dev/null 2>&1; do
  tries=$((tries + 1))
  [ "$tries" -lt 60 ] || die "PostgreSQL at ${PGHOST:-localhost}:${PGPORT:-5432} does not answer (is the postgres service healthy? docker compose logs postgres)"
  sleep 1
done

# Passwords travel through the environment (\getenv), never on a command line.
psql -d postgres -v ON_ERROR_STOP=1 -q <<'SQL'
\getenv synapse_password SYNAPSE_DB_PASSWORD
\getenv atlas_password ATLAS_DB_PASSWORD
select not exists (select 1 from pg_roles where rolname = 'synapse') as create_synapse \gset
\if :create_synapse
  create role synapse login;
\endif
select not exists (select 1 from pg_roles where rolname = 'atlas') as create_atlas \gset
\if :create_atlas
  create role atlas login;
\endif
alter role synapse with login password :'synapse_password';
alter role atlas with login password :'atlas_password';
select not exists (select 1 from pg_database where datname = 'synapse') as create_synapse_db \gset
\if :create_synapse_db
  create database synapse owner synapse encoding 'UTF8' lc_collate 'C' lc_ctype 'C' template template0;
\endif
select not exists (select 1 from pg_database where datname = 'atlas') as create_atlas_db \gset
\if :create_atlas_db
  create database atlas owner atlas encoding 'UTF8' lc_collate 'C' lc_ctype 'C' template template0;
\endif
SQL

bad=$(psql -d postgres -Atq -c "select datname || ': encoding ' || pg_encoding_to_char(encoding) || ', collation ' || datcollate || ', ctype ' || datctype from pg_database where datname in ('synapse', 'atlas') and (pg_encoding_to_char(encoding) <> 'UTF8' or datcollate <> 'C' or datctype <> 'C')")
if [ -n "$bad" ]; then
  die "database with the wrong encoding or collation (need UTF8 and C): $bad.
Dump it, drop it, and start the stack again so that init recreates it (see README, \"Backups\")."
fi
# Atlas's migrations create extensions (pg_trgm, unaccent) and need to own the public schema.
psql -d atlas -v ON_ERROR_STOP=1 -q -c 'alter schema public owner to atlas' >/dev/null
echo "init: databases synapse and atlas are ready (UTF8, C collation)"
