#!/bin/sh
# Atlas's container start. Atlas reads its settings from the environment only, so secrets mounted
# as files are read here: DATABASE_PASSWORD_FILE goes into DATABASE_URL, and MEILI_KEY_FILE,
# ATLAS_ADMIN_TOKENS_FILE, ATLAS_HOMESERVER_PASSWORD_FILE and ATLAS_HOMESERVER_TOKEN_FILE become
# the variable without _FILE. Then the data folder is given to the unprivileged user and the
# command runs as that user: an atlas command (start, api, crawler, migrate, reindex...) or any
# program.
set -eu

die() {
  printf 'atlas: error: %s\n' "$*" >&2
  exit 78
}

read_secret() {
  [ -r "$2" ] || die "$1=$2: cannot read the file; run setup.sh on the host"
  head -n 1 "$2"
}

for name in MEILI_KEY ATLAS_ADMIN_TOKENS ATLAS_HOMESERVER_PASSWORD ATLAS_HOMESERVER_TOKEN; do
  eval "file=\${${name}_FILE:-}"
  if [ -n "$file" ]; then
    value=$(read_secret "${name}_FILE" "$file")
    export "$name=$value"
    unset "${name}_FILE"
  fi
done

if [ -n "${DATABASE_PASSWORD_FILE:-}" ]; then
  password=$(read_secret DATABASE_PASSWORD_FILE "$DATABASE_PASSWORD_FILE")
  case "$password" in *[!A-Za-z0-9]* | "") die "DATABASE_PASSWORD_FILE: the password must be letters and digits (setup.sh makes it so)" ;; esac
  case "${DATABASE_URL:-}" in
    postgres://*@* | postgresql://*@*) ;;
    *) die "DATABASE_URL must look like postgres://user@host:port/database when DATABASE_PASSWORD_FILE is set" ;;
  esac
  DATABASE_URL=$(printf '%s' "$DATABASE_URL" | sed "s|^\(postgres[a-z]*://[^:@/]*\)@|\1:$password@|")
  export DATABASE_URL
  unset DATABASE_PASSWORD_FILE
fi

app=${ATLAS_APP_DIR:-/app}
user=${ATLAS_USER:-node}
data=${ATLAS_DATA_DIR:-/data}

case "${1:-start}" in
  -*|start|api|crawler|migrate|reindex|help) set -- node "$app/apps/cli/bin/atlas.mjs" "$@" ;;
esac

if [ "$(id -u)" -eq 0 ]; then
  mkdir -p "$data"
  owner=$(id -u "$user"):$(id -g "$user")
  # The avatar cache may be a volume of its own, mounted inside the data folder.
  for dir in "$data" "$data/media"; do
    [ ! -d "$dir" ] || [ "$(stat -c %u:%g "$dir")" = "$owner" ] || chown -R "$owner" "$dir"
  done
  exec setpriv --reuid="$user" --regid="$user" --init-groups -- "$@"
fi
exec "$@"
