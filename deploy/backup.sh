#!/bin/sh
# Backs up everything needed to bring the server back: both databases (pg_dump, custom format),
# Synapse's data volume (media), Atlas's data volume, and the stack's own files (.env, secrets/
# with the signing key, config/, certs/). The stack may keep running.
#
#   sh deploy/backup.sh [--out DIR]        default DIR: backups/<UTC time> next to compose.yaml
#
# The backup holds every secret: keep it as carefully as the server (it is written mode 0700).
set -eu

STACK=$(
  if [ -n "${ATLAS_DEPLOY_DIR:-}" ]; then cd "$ATLAS_DEPLOY_DIR" && pwd; else cd "$(dirname "$0")" && pwd; fi
)
# shellcheck source=lib/common.sh
. "$STACK/lib/common.sh"

out=""
while [ "$#" -gt 0 ]; do
  case "$1" in
    --out) [ "$#" -ge 2 ] || die "--out needs a folder"; out=$2; shift 2 ;;
    -h | --help) echo "Usage: backup.sh [--out DIR]"; exit 0 ;;
    *) die "unknown option: $1 (see backup.sh --help)" ;;
  esac
done
require_stack
require_compose
[ -n "$out" ] || out="$STACK/backups/$(date -u +%Y%m%dT%H%M%SZ)"
[ ! -e "$out" ] || [ -z "$(ls -A "$out")" ] || die "$out exists and is not empty; choose another --out"
umask 077
mkdir -p "$out" || die "cannot create $out"
chmod 0700 "$out"

step() {
  info "backup: $1"
}
fail() {
  die "backup failed while $1; the partial backup is in $out (delete it)"
}

step "database synapse"
compose exec -T postgres pg_dump -U postgres -Fc synapse >"$out/synapse.dump" || fail "dumping the synapse database (is postgres up? docker compose ps postgres)"
step "database atlas"
compose exec -T postgres pg_dump -U postgres -Fc atlas >"$out/atlas.dump" || fail "dumping the atlas database"
step "Synapse's data volume (media store)"
compose run --rm --no-deps -T --entrypoint tar synapse -C /data --exclude ./homeserver.pid -cf - . >"$out/synapse-data.tar" ||
  fail "archiving Synapse's data volume"
step "Atlas's data volume"
# The avatar cache (media/, a volume of its own) is left out: Atlas fetches avatars again on demand.
compose run --rm --no-deps -T --entrypoint tar atlas-api -C /data --exclude ./media -cf - . >"$out/atlas-data.tar" ||
  fail "archiving Atlas's data volume"
step "stack files (.env, secrets, config, certs)"
tar -C "$STACK" -cf "$out/stack-files.tar" .env secrets config certs || fail "archiving the stack files"
for file in synapse.dump atlas.dump synapse-data.tar atlas-data.tar stack-files.tar; do
  [ -s "$out/$file" ] || fail "writing $file (it is empty)"
done
(cd "$out" && sha256sum synapse.dump atlas.dump synapse-data.tar atlas-data.tar stack-files.tar >SHA256SUMS) ||
  fail "writing checksums"
info "backup: done: $out"
echo "$out"
