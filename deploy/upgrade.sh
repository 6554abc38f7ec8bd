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
while [ "$#" -gt 0 ]; do
  case "$1" in
    --no-backup) backup=no; shift ;;
    -h | --help) echo "Usage: upgrade.sh [--no-backup]"; exit 0 ;;
    *) die "unknown option: $1 (see upgrade.sh --help)" ;;
  esac
done
require_stack
require_compose

if [ "$backup" = yes ]; then
  info "upgrade: backup first"
  sh "$STACK/backup.sh" >/dev/null || die "the backup failed, so nothing was upgraded"
fi
info "upgrade: pulling images"
compose pull --ignore-buildable || die "docker compose pull failed (network? registry?)"
info "upgrade: building Atlas"
compose build || die "building Atlas's image failed"
info "upgrade: restarting what changed"
compose up -d --wait --remove-orphans || die "the stack is not healthy after the upgrade: docker compose ps; docker compose logs. The backup is under $STACK/backups"
info "upgrade: checking the server from outside"
sh "$STACK/doctor.sh" --after-start || die "doctor.sh found problems after the upgrade (see above)"
info "upgrade: done"
