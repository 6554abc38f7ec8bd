#!/bin/sh
# Restores a backup made by backup.sh into this stack folder, e.g. on a new machine: the stack's
# files (.env, secrets with the signing key, config, certs), both databases, and the data volumes.
# Every existing database and volume content of this stack is replaced.
#
#   sh deploy/restore.sh BACKUP_DIR --yes [--no-start]
#
# Order: files; PostgreSQL alone (a fresh volume is initialised with the restored password);
# `init` (roles and databases, UTF8 and C collation); pg_restore; volumes; then the whole stack.
set -eu

STACK=$(
  if [ -n "${ATLAS_DEPLOY_DIR:-}" ]; then cd "$ATLAS_DEPLOY_DIR" && pwd; else cd "$(dirname "$0")" && pwd; fi
)
# shellcheck source=lib/common.sh
. "$STACK/lib/common.sh"

backup=""
yes=no
start=yes
while [ "$#" -gt 0 ]; do
  case "$1" in
    --yes) yes=yes; shift ;;
    --no-start) start=no; shift ;;
    -h | --help) echo "Usage: restore.sh BACKUP_DIR --yes [--no-start]"; exit 0 ;;
    -*) die "unknown option: $1 (see restore.sh --help)" ;;
    *) backup=$1; shift ;;
  esac
done
[ -n "$backup" ] || die "give the backup folder, e.g. restore.sh backups/20260101T000000Z --yes"
[ -d "$backup" ] || die "$backup is not a folder"
backup=$(cd "$backup" && pwd)
[ "$yes" = yes ] || die "restore replaces this stack's databases, volumes and secrets; add --yes to go on"
[ -f "$STACK/compose.yaml" ] || die "$STACK/compose.yaml is missing: copy the deploy folder (or run setup.sh --dir) first"
require_compose

step() {
  info "restore: $1"
}

step "checking the backup"
for file in synapse.dump atlas.dump synapse-data.tar atlas-data.tar stack-files.tar SHA256SUMS; do
  [ -s "$backup/$file" ] || die "$backup/$file is missing or empty: not a complete backup"
done
(cd "$backup" && sha256sum -c --quiet SHA256SUMS) || die "$backup does not match its SHA256SUMS: the backup is damaged"

step "stack files (.env, secrets, config, certs)"
umask 077
tar -C "$STACK" -xpf "$backup/stack-files.tar" || die "cannot unpack the stack files into $STACK"
source_dir=$(env_get ATLAS_SOURCE)
if [ ! -f "$source_dir/deploy/atlas/Dockerfile" ]; then
  warn "ATLAS_SOURCE=$source_dir (from the backup) has no Atlas source here: run setup.sh once to fix it"
fi

step "starting PostgreSQL"
compose up -d --wait postgres || die "PostgreSQL did not start: docker compose logs postgres"
step "roles and databases"
compose run --rm init || die "the init service failed: see its messages above"

restore_db() {
  step "database $1"
  compose exec -T postgres pg_restore -U postgres --clean --if-exists --no-owner --role="$1" -d "$1" <"$backup/$1.dump" ||
    die "pg_restore of $1 failed; the messages above say why"
}
restore_db synapse
restore_db atlas

# $4: a folder under /data that is another volume's mount point (emptied, never removed).
restore_volume() {
  step "$2"
  compose run --rm --no-deps -T --entrypoint sh "$1" -c "find /data -mindepth 1 ! -path '${4:-/data/.none}' -delete && tar -C /data -xpf -" \
    <"$backup/$3" || die "cannot restore $2"
}
restore_volume synapse "Synapse's data volume" synapse-data.tar
# Atlas's avatar cache is a volume mounted at /data/media; the backup left it out.
restore_volume atlas-api "Atlas's data volume" atlas-data.tar /data/media

if [ "$start" = yes ]; then
  step "starting the stack"
  compose up -d || die "the stack did not start: docker compose ps; docker compose logs"
fi
step "done"
