#!/bin/sh
# Creates a Synapse user with the registration shared secret, in one command.
#
#   sh deploy/adduser.sh alice [--admin] [--exist-ok]
#
# The password is asked for twice on a terminal, or read from the first line of standard input
# (echo "$password" | adduser.sh alice). By default the request goes to Synapse inside its
# container (`docker compose exec synapse`); ATLAS_DEPLOY_SYNAPSE_URL sends it to a Synapse at that
# URL instead, and ATLAS_DEPLOY_SHARED_SECRET_FILE names the secret file to use with it.
# --exist-ok: a user of that name that exists already is success (nothing is changed); setup.sh
# uses it to create its admin once, however often it runs.
# Protocol: Synapse admin API, POST /_synapse/admin/v1/register (nonce, then an HMAC-SHA1 MAC).
set -eu

STACK=$(
  if [ -n "${ATLAS_DEPLOY_DIR:-}" ]; then cd "$ATLAS_DEPLOY_DIR" && pwd; else cd "$(dirname "$0")" && pwd; fi
)
# shellcheck source=lib/common.sh
. "$STACK/lib/common.sh"
# shellcheck source=lib/hmac.sh
. "$STACK/lib/hmac.sh"

usage() {
  echo "Usage: adduser.sh USERNAME [--admin] [--exist-ok]" >&2
}

user=""
admin=notadmin
exist_ok=no
while [ "$#" -gt 0 ]; do
  case "$1" in
    --admin) admin="admin"; shift ;;
    --exist-ok) exist_ok=yes; shift ;;
    -h | --help) usage; exit 0 ;;
    -*) usage; die "unknown option: $1" ;;
    *) [ -z "$user" ] || { usage; die "one user at a time"; }; user=$1; shift ;;
  esac
done
[ -n "$user" ] || { usage; die "give the new user's name, e.g. adduser.sh alice"; }

# Matrix localparts: lowercase letters, digits and ._=-/+ (spec: "User Identifiers").
printf '%s' "$user" | grep -Eq '^[a-z0-9._=/+-]{1,200}$' ||
  die "\"$user\" is not a valid user name: use lowercase letters, digits and . _ = - / + only"

require_program curl "install it (apt-get install curl)"
require_program openssl "install it (apt-get install openssl)"

secret_file=${ATLAS_DEPLOY_SHARED_SECRET_FILE:-$STACK/secrets/synapse_registration_shared_secret}
[ -r "$secret_file" ] || die "cannot read the registration shared secret $secret_file (run as root, after setup.sh)"
secret=$(head -n 1 "$secret_file")
[ -n "$secret" ] || die "$secret_file is empty; run setup.sh again"

if [ -n "${ATLAS_DEPLOY_SYNAPSE_URL:-}" ]; then
  base=${ATLAS_DEPLOY_SYNAPSE_URL%/}
  request() { curl -sS --max-time 20 -w '\n%{http_code}' "$@"; }
  where="$base"
else
  require_stack
  require_compose
  base=http://localhost:8008
  request() { compose exec -T synapse curl -sS --max-time 20 -w '\n%{http_code}' "$@"; }
  where="the synapse container"
fi

if [ -t 0 ]; then
  stty -echo
  trap 'stty echo' EXIT INT TERM
  printf 'Password for %s: ' "$user" >&2
  IFS= read -r password
  printf '\nAgain: ' >&2
  IFS= read -r again
  printf '\n' >&2
  stty echo
  trap - EXIT INT TERM
  [ "$password" = "$again" ] || die "the two passwords differ; nothing was created"
else
  IFS= read -r password || true
fi
[ "${#password}" -ge 8 ] || die "the password needs at least 8 characters; nothing was created"
case "$password" in *[[:cntrl:]]*) die "the password contains control characters" ;; esac

json_string() {
  printf '"%s"' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g')"
}
json_field() {
  sed -n "s/.*\"$1\" *: *\"\\([^\"]*\\)\".*/\\1/p" | head -n 1
}

# 1. A nonce.
if ! answer=$(request "$base/_synapse/admin/v1/register" 2>&1); then
  die "Synapse does not answer at $where ($answer). Is the stack up? Try: docker compose ps synapse"
fi
status=$(printf '%s' "$answer" | tail -n 1)
body=$(printf '%s' "$answer" | sed '$d')
case "$status" in
  200) ;;
  400 | 403 | 404) die "Synapse refuses shared-secret registration ($status): is registration_shared_secret_path set? ($body)" ;;
  *) die "Synapse answered $status to the nonce request at $where: $body" ;;
esac
nonce=$(printf '%s' "$body" | json_field nonce)
[ -n "$nonce" ] || die "Synapse's nonce answer has no nonce: $body"

# 2. The registration, authenticated by HMAC-SHA1(secret, nonce NUL user NUL password NUL admin).
# The secret stays off every command line (see lib/hmac.sh).
mac=$(printf '%s\0%s\0%s\0%s' "$nonce" "$user" "$password" "$admin" | hmac_sha1_hex "$secret")
is_admin=false
[ "$admin" = notadmin ] || is_admin=true
payload="{\"nonce\":\"$nonce\",\"username\":$(json_string "$user"),\"password\":$(json_string "$password"),\"admin\":$is_admin,\"mac\":\"$mac\"}"
if ! answer=$(printf '%s' "$payload" | request -X POST -H 'Content-Type: application/json' --data-binary @- \
  "$base/_synapse/admin/v1/register" 2>&1); then
  die "Synapse stopped answering at $where: $answer"
fi
status=$(printf '%s' "$answer" | tail -n 1)
body=$(printf '%s' "$answer" | sed '$d')
if [ "$status" = 200 ]; then
  user_id=$(printf '%s' "$body" | json_field user_id)
  if [ "$admin" = admin ]; then
    info "created $user_id (server admin)"
  else
    info "created $user_id"
  fi
  exit 0
fi
errcode=$(printf '%s' "$body" | json_field errcode)
error=$(printf '%s' "$body" | json_field error)
case "$errcode" in
  M_USER_IN_USE)
    if [ "$exist_ok" = yes ]; then
      info "@$user exists already; left as it is (its password too)"
      exit 0
    fi
    die "the user $user exists already; nothing was changed"
    ;;
  M_INVALID_USERNAME) die "Synapse refuses the name \"$user\": $error" ;;
  M_FORBIDDEN) die "Synapse refused the request ($error): does secrets/synapse_registration_shared_secret match the running Synapse? Restart it after setup.sh" ;;
  *) die "Synapse answered $status: ${error:-$body}" ;;
esac
