#!/bin/sh
# Upgrades the stack: a backup first, then the pinned images of compose.yaml (pull), Atlas's
# image (build), a restart of what changed, and a health check. Update the repository (git pull)
# before running it to get new pins and a new Atlas.
#
#   sh deploy/upgrade.sh [--no-backup]
set -eu

STACK=$(
  if [ -n "${ATLAS_DEPLOY_DIR:-}" ]; then cd "$ATLAS_DEPLOY_DIR" && pwd; else cd "$(dirname "$0")" && pwd; fi
)
# shellcheck source=lib/common.sh
. "$STACK/lib/common.sh"

backup=yes
backup_dir=""
while [ "$#" -gt 0 ]; do
  case "$1" in
    --no-backup) backup=no; shift ;;
    -h | --help) echo "Usage: upgrade.sh [--no-backup]"; exit 0 ;;
    *) die "unknown option: $1 (see upgrade.sh --help)" ;;
  esac
done
require_stack
require_compose

restore_hint="no backup was made (--no-backup)"
if [ "$backup" = yes ]; then
  info "upgrade: backup first"
  backup_dir=$(sh "$STACK/backup.sh") || die "the backup failed, so nothing was upgraded"
  restore_hint="to go back: check out the version of this repository you upgraded from, then sh $STACK/restore.sh $backup_dir --yes"
fi
info "upgrade: pulling images"
compose pull --ignore-buildable || die "docker compose pull failed (network? registry?); nothing was changed"
info "upgrade: building Atlas"
compose build || die "building Atlas's image failed; nothing was changed"
info "upgrade: restarting what changed"
compose up -d --wait --remove-orphans ||
  die "the stack is not healthy after the upgrade: see docker compose ps and docker compose logs <service>; $restore_hint"
info "upgrade: checking the server from outside"
sh "$STACK/doctor.sh" --after-start || die "doctor.sh found problems after the upgrade (see above); $restore_hint"
info "upgrade: done${backup_dir:+ (backup: $backup_dir)}"
