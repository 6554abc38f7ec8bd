#!/bin/sh
# Meilisearch's start in the stack, with the arguments compose gives (--env production). The master
# key is read from its secret file here: Meilisearch has no *_FILE variable of its own, and in
# production it refuses a key shorter than 16 bytes.
#
# A data folder written by another Meilisearch version cannot be opened: Meilisearch exits, and
# would again at every restart. Atlas keeps nothing in Meilisearch that PostgreSQL does not hold,
# so such a folder (an upgrade of the image) is removed and Meilisearch starts empty; Atlas's index
# queue sees an index it did not build and rebuilds it from PostgreSQL, which answers searches
# meanwhile (docs/adr/0203-meilisearch-with-postgresql-fallback.md).
set -eu

key_file=${MEILI_MASTER_KEY_FILE:-/run/secrets/meili_master_key}
data=${MEILI_DB_PATH:-/meili_data/data.ms}
program=${MEILI_PROGRAM:-/bin/meilisearch}

die() {
  printf 'meilisearch: error: %s\n' "$*" >&2
  exit 1
}

[ -r "$key_file" ] || die "cannot read the master key $key_file; run setup.sh on the host"
key=$(head -n 1 "$key_file")
[ "${#key}" -ge 16 ] || die "the master key in $key_file is shorter than 16 bytes; run setup.sh on the host"

engine=$("$program" --version | sed -n 's/^meilisearch //p')
[ -n "$engine" ] || die "$program --version did not say its version"
if [ -f "$data/VERSION" ]; then
  stored=$(head -n 1 "$data/VERSION")
  if [ "$stored" != "$engine" ]; then
    printf 'meilisearch: %s was written by Meilisearch %s, this is %s: starting empty; Atlas rebuilds its index from PostgreSQL\n' \
      "$data" "$stored" "$engine" >&2
    rm -rf "$data"
  fi
fi

MEILI_MASTER_KEY=$key
export MEILI_MASTER_KEY
exec "$program" "$@"
