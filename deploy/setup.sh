#!/bin/sh
# Sets up the stack: writes .env, generates every secret into its own 0600 file under secrets/,
# renders every config under config/ from templates/, and makes a self-signed certificate so that
# HAProxy starts before Let's Encrypt has answered. Idempotent: a second run with the same answers
# changes nothing, and secrets are never regenerated.
#
#   sh deploy/setup.sh --domain example.org [--atlas-domain directory.example.org] [--email you@example.org]
#
# Answers given once are kept in .env; later runs need only the options that change.
set -eu

src=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib/common.sh
. "$src/lib/common.sh"

usage() {
  cat <<'USAGE'
Usage: setup.sh --domain DOMAIN [options]

  --domain DOMAIN           Matrix server name (user ids end in :DOMAIN). Permanent.
  --atlas-domain NAME       serve Atlas on its own name (with a Matrix identity); default: under
                            https://DOMAIN/atlas/ without one
  --element-domain NAME     Element Web's name (default element.DOMAIN)
  --email ADDRESS           Let's Encrypt account and support contact; turns on the acme profile.
                            Without it the stack keeps a self-signed certificate.
  --admin-ui                turn on the Synapse admin UI profile (and route the admin API)
  --no-admin-ui             turn it off again
  --admin-domain NAME       the admin UI's name (default admin.DOMAIN)
  --admin-allow CIDRS       addresses allowed to use the admin API (default 0.0.0.0/0 ::/0)
  --turn-domain NAME        name clients use for TURN (default DOMAIN)
  --public-ip ADDRESS       public IPv4 address for coturn when this machine is behind NAT
  --turn-ports MIN-MAX      UDP relay range (default 49152-50151)
  --registration-tokens     open registration to holders of a registration token
  --no-registration-tokens  close it again (the default: accounts come from adduser.sh)
  --report-stats yes|no     send Synapse's anonymous usage statistics (default no)
  --support-user NAME       local user named as the contact in /.well-known/matrix/support (default admin)
  --dir DIR                 write the stack there instead of next to this script
  -h, --help                this help
USAGE
}

stack=$src
opt_domain=""
opt_atlas_domain=""
opt_element_domain=""
opt_email=""
opt_admin_ui=""
opt_admin_domain=""
opt_admin_allow=""
opt_turn_domain=""
opt_public_ip=""
opt_turn_ports=""
opt_registration=""
opt_report_stats=""
opt_support_user=""

need_value() {
  if [ "$#" -lt 2 ] || [ -z "$2" ]; then die "$1 needs a value (see setup.sh --help)"; fi
}

while [ "$#" -gt 0 ]; do
  case "$1" in
    --domain) need_value "$@"; opt_domain=$2; shift 2 ;;
    --atlas-domain) need_value "$@"; opt_atlas_domain=$2; shift 2 ;;
    --element-domain) need_value "$@"; opt_element_domain=$2; shift 2 ;;
    --email) need_value "$@"; opt_email=$2; shift 2 ;;
    --admin-ui) opt_admin_ui=yes; shift ;;
    --no-admin-ui) opt_admin_ui=no; shift ;;
    --admin-domain) need_value "$@"; opt_admin_domain=$2; shift 2 ;;
    --admin-allow) need_value "$@"; opt_admin_allow=$2; shift 2 ;;
    --turn-domain) need_value "$@"; opt_turn_domain=$2; shift 2 ;;
    --public-ip) need_value "$@"; opt_public_ip=$2; shift 2 ;;
    --turn-ports) need_value "$@"; opt_turn_ports=$2; shift 2 ;;
    --registration-tokens) opt_registration=yes; shift ;;
    --no-registration-tokens) opt_registration=no; shift ;;
    --report-stats) need_value "$@"; opt_report_stats=$2; shift 2 ;;
    --support-user) need_value "$@"; opt_support_user=$2; shift 2 ;;
    --dir) need_value "$@"; stack=$2; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown option: $1" ;;
  esac
done

require_program openssl "install it (apt-get install openssl): setup.sh generates keys and secrets with it"
require_program awk "install it (apt-get install mawk)"
mkdir -p "$stack" || die "cannot create $stack"
STACK=$(cd "$stack" && pwd)

# Earlier answers, from .env, are the defaults of this run.
previous() {
  if [ -f "$STACK/.env" ]; then env_get "$1"; fi
}
pick() {
  if [ -n "$1" ]; then printf '%s' "$1"; else printf '%s' "$2"; fi
}

old_domain=$(previous SERVER_NAME)
if [ -n "$opt_domain" ] && ! is_domain "$opt_domain"; then
  die "--domain $opt_domain is not a DNS name (e.g. example.org)"
fi
if [ -n "$opt_domain" ] && [ -n "$old_domain" ] && [ "$opt_domain" != "$old_domain" ]; then
  die "this stack is set up for $old_domain and server_name is permanent: user ids, rooms and the
signing key belong to it. To start over with $opt_domain, use a new --dir (or delete .env, config/,
secrets/ and every Docker volume of the old stack first)."
fi
SERVER_NAME=$(pick "$opt_domain" "$old_domain")
[ -n "$SERVER_NAME" ] || { usage >&2; die "--domain is required the first time"; }
is_domain "$SERVER_NAME" || die "--domain $SERVER_NAME is not a DNS name (e.g. example.org)"
SERVER_NAME=$(printf '%s' "$SERVER_NAME" | tr '[:upper:]' '[:lower:]')

ELEMENT_DOMAIN=$(pick "$opt_element_domain" "$(previous ELEMENT_DOMAIN)")
ELEMENT_DOMAIN=$(pick "$ELEMENT_DOMAIN" "element.$SERVER_NAME")
ATLAS_DOMAIN=$(pick "$opt_atlas_domain" "$(previous ATLAS_DOMAIN)")
ACME_EMAIL=$(pick "$opt_email" "$(previous ACME_EMAIL)")
ADMIN_UI=$(pick "$opt_admin_ui" "$(previous ADMIN_UI)")
ADMIN_UI=$(pick "$ADMIN_UI" no)
ADMIN_DOMAIN=$(pick "$opt_admin_domain" "$(previous ADMIN_DOMAIN)")
ADMIN_DOMAIN=$(pick "$ADMIN_DOMAIN" "admin.$SERVER_NAME")
ADMIN_ALLOW=$(pick "$opt_admin_allow" "$(previous ADMIN_ALLOW)")
ADMIN_ALLOW=$(pick "$ADMIN_ALLOW" "0.0.0.0/0 ::/0")
TURN_DOMAIN=$(pick "$opt_turn_domain" "$(previous TURN_DOMAIN)")
TURN_DOMAIN=$(pick "$TURN_DOMAIN" "$SERVER_NAME")
TURN_EXTERNAL_IP=$(pick "$opt_public_ip" "$(previous TURN_EXTERNAL_IP)")
turn_ports=$(pick "$opt_turn_ports" "$(previous TURN_MIN_PORT)-$(previous TURN_MAX_PORT)")
[ "$turn_ports" != "-" ] || turn_ports=49152-50151
REGISTRATION_TOKENS=$(pick "$opt_registration" "$(previous REGISTRATION_TOKENS)")
REGISTRATION_TOKENS=$(pick "$REGISTRATION_TOKENS" no)
REPORT_STATS=$(pick "$opt_report_stats" "$(previous REPORT_STATS)")
REPORT_STATS=$(pick "$REPORT_STATS" no)
SUPPORT_USER=$(pick "$opt_support_user" "$(previous SUPPORT_USER)")
SUPPORT_USER=$(pick "$SUPPORT_USER" admin)

for name in "$ELEMENT_DOMAIN" "$ADMIN_DOMAIN" "$TURN_DOMAIN"; do
  is_domain "$name" || die "$name is not a DNS name"
done
if [ -n "$ATLAS_DOMAIN" ]; then
  is_domain "$ATLAS_DOMAIN" || die "--atlas-domain $ATLAS_DOMAIN is not a DNS name"
  [ "$ATLAS_DOMAIN" != "$SERVER_NAME" ] || die "--atlas-domain must differ from --domain (both would serve /_matrix/key/v2/server)"
fi
[ -z "$ACME_EMAIL" ] || is_email "$ACME_EMAIL" || die "--email $ACME_EMAIL is not an e-mail address"
[ -z "$TURN_EXTERNAL_IP" ] || is_ipv4 "$TURN_EXTERNAL_IP" || die "--public-ip $TURN_EXTERNAL_IP is not an IPv4 address"
case "$REPORT_STATS" in yes | no) ;; *) die "--report-stats takes yes or no" ;; esac
printf '%s' "$SUPPORT_USER" | grep -Eq '^[a-z0-9._=/+-]+$' || die "--support-user $SUPPORT_USER is not a valid Matrix localpart"
TURN_MIN_PORT=${turn_ports%-*}
TURN_MAX_PORT=${turn_ports#*-}
case "$TURN_MIN_PORT$TURN_MAX_PORT" in *[!0-9]* | "") die "--turn-ports takes MIN-MAX, e.g. 49152-50151" ;; esac
if [ "$TURN_MIN_PORT" -lt 1024 ] || [ "$TURN_MAX_PORT" -gt 65535 ] || [ "$TURN_MIN_PORT" -ge "$TURN_MAX_PORT" ]; then
  die "--turn-ports $turn_ports: need 1024 <= MIN < MAX <= 65535"
fi
for cidr in $ADMIN_ALLOW; do
  printf '%s' "$cidr" | grep -Eq '^[0-9A-Fa-f:.]+/[0-9]{1,3}$' || die "--admin-allow: $cidr is not a CIDR range"
done

SYNAPSE_UID=991
SYNAPSE_GID=991
ATLAS_UID=1000
ATLAS_SERVER_NAME=$ATLAS_DOMAIN
SUPPORT_MXID="@$SUPPORT_USER:$SERVER_NAME"
profiles=""
[ -z "$ACME_EMAIL" ] || profiles="acme"
[ "$ADMIN_UI" != yes ] || profiles="${profiles:+$profiles,}admin"
acme_domains="$SERVER_NAME,$ELEMENT_DOMAIN"
[ -z "$ATLAS_DOMAIN" ] || acme_domains="$acme_domains,$ATLAS_DOMAIN"
[ "$ADMIN_UI" != yes ] || acme_domains="$acme_domains,$ADMIN_DOMAIN"
case ",$acme_domains," in *",$TURN_DOMAIN,"*) ;; *) acme_domains="$acme_domains,$TURN_DOMAIN" ;; esac

if [ "$(id -u)" -ne 0 ]; then
  die "run setup.sh as root (sudo sh setup.sh ...): it gives Synapse's secret files to Synapse's UID ($SYNAPSE_UID)"
fi

changed=0

# Writes stdin to $1 with mode $2 (and owner $3) only when the content differs, so that a second
# run leaves every file untouched.
write_file() {
  _dest=$1
  _tmp="$_dest.tmp.$$"
  (umask 077 && cat >"$_tmp") || die "cannot write $_tmp"
  if [ -f "$_dest" ] && cmp -s "$_tmp" "$_dest"; then
    rm -f "$_tmp"
  else
    mv "$_tmp" "$_dest" || die "cannot write $_dest"
    changed=$((changed + 1))
    info "wrote ${_dest#"$STACK"/}"
  fi
  set_mode "$_dest" "$2" "${3:-0:0}"
}

set_mode() {
  [ "$(stat -c %a "$1")" = "${2#0}" ] || chmod "$2" "$1"
  [ "$(stat -c %u:%g "$1")" = "$3" ] || chown "$3" "$1" || die "cannot give $1 to $3"
}

# --- static files: the stack folder is self-contained -------------------------------------------
if [ "$STACK" != "$src" ]; then
  mkdir -p "$STACK/lib" "$STACK/postgres" "$STACK/coturn" "$STACK/acme" "$STACK/meilisearch"
  for file in compose.yaml adduser.sh backup.sh doctor.sh restore.sh upgrade.sh lib/common.sh lib/hmac.sh \
    postgres/init.sh coturn/entrypoint.sh acme/renew.sh meilisearch/entrypoint.sh; do
    case "$file" in *.sh) mode=0755 ;; *) mode=0644 ;; esac
    write_file "$STACK/$file" "$mode" <"$src/$file"
  done
fi

# --- .env ----------------------------------------------------------------------------------------
write_file "$STACK/.env" 0644 <<EOF
# Written by setup.sh from its answers; run setup.sh again to change them. No secrets here:
# they are files under secrets/.
COMPOSE_PROJECT_NAME=atlas-stack
COMPOSE_PROFILES=$profiles
SERVER_NAME=$SERVER_NAME
ELEMENT_DOMAIN=$ELEMENT_DOMAIN
ATLAS_DOMAIN=$ATLAS_DOMAIN
ATLAS_SERVER_NAME=$ATLAS_SERVER_NAME
ADMIN_UI=$ADMIN_UI
ADMIN_DOMAIN=$ADMIN_DOMAIN
ADMIN_ALLOW=$ADMIN_ALLOW
ACME_EMAIL=$ACME_EMAIL
ACME_DOMAINS=$acme_domains
TURN_DOMAIN=$TURN_DOMAIN
TURN_EXTERNAL_IP=$TURN_EXTERNAL_IP
TURN_MIN_PORT=$TURN_MIN_PORT
TURN_MAX_PORT=$TURN_MAX_PORT
REGISTRATION_TOKENS=$REGISTRATION_TOKENS
REPORT_STATS=$REPORT_STATS
SUPPORT_USER=$SUPPORT_USER
SYNAPSE_UID=$SYNAPSE_UID
SYNAPSE_GID=$SYNAPSE_GID
ATLAS_UID=$ATLAS_UID
ATLAS_SOURCE=$(cd "$src/.." && pwd)
EOF

# --- secrets: generated once, each in its own file -----------------------------------------------
mkdir -p "$STACK/secrets"
set_mode "$STACK/secrets" 0700 0:0

# new_secret NAME OWNER GENERATOR...: runs GENERATOR only when the file does not exist yet.
new_secret() {
  _file="$STACK/secrets/$1"
  _owner=$2
  shift 2
  if [ ! -s "$_file" ]; then
    _new="$_file.new.$$"
    (umask 077 && "$@" >"$_new") || die "cannot generate secrets/${_file##*/}"
    write_file "$_file" 0600 "$_owner" <"$_new"
    rm -f "$_new"
  fi
  set_mode "$_file" 0600 "$_owner"
}
token() { random_token "$1"; echo; }
# Synapse's key file format: "ed25519 <key id> <unpadded base64 of the 32-byte seed>".
signing_key() {
  _seed=$(openssl genpkey -algorithm ed25519 -outform DER | tail -c 32 | base64 | tr -d '=\n')
  [ "${#_seed}" -eq 43 ] || die "openssl did not produce an ed25519 key"
  printf 'ed25519 a_%s %s\n' "$(random_token 4)" "$_seed"
}
# libpq's passfile format (host:port:database:user:password), read by Synapse's database driver.
synapse_pgpass() { printf '*:*:*:synapse:%s\n' "$(random_token 40)"; }

synapse_owner="$SYNAPSE_UID:$SYNAPSE_GID"
new_secret postgres_password 0:0 token 40
new_secret atlas_db_password 0:0 token 40
new_secret meili_master_key 0:0 token 48
new_secret atlas_admin_token 0:0 token 48
new_secret synapse_db_password "$synapse_owner" synapse_pgpass
new_secret synapse_signing_key "$synapse_owner" signing_key
new_secret synapse_macaroon_secret_key "$synapse_owner" token 64
new_secret synapse_form_secret "$synapse_owner" token 64
new_secret synapse_registration_shared_secret "$synapse_owner" token 64
# Read by Synapse (as its UID) and by coturn's entrypoint (as root).
new_secret turn_shared_secret "$synapse_owner" token 64

# --- configs, rendered from templates ------------------------------------------------------------
R_SERVER_NAME=$SERVER_NAME
R_ELEMENT_DOMAIN=$ELEMENT_DOMAIN
R_ATLAS_DOMAIN=$ATLAS_DOMAIN
R_ADMIN_UI=$ADMIN_UI
R_ADMIN_DOMAIN=$ADMIN_DOMAIN
R_ADMIN_ALLOW=$ADMIN_ALLOW
R_TURN_DOMAIN=$TURN_DOMAIN
R_TURN_EXTERNAL_IP=$TURN_EXTERNAL_IP
R_TURN_MIN_PORT=$TURN_MIN_PORT
R_TURN_MAX_PORT=$TURN_MAX_PORT
R_REGISTRATION_TOKENS=$REGISTRATION_TOKENS
R_REPORT_STATS=$([ "$REPORT_STATS" = yes ] && echo true || echo false)
R_SUPPORT_MXID=$SUPPORT_MXID
R_SUPPORT_EMAIL=$ACME_EMAIL
export R_SERVER_NAME R_ELEMENT_DOMAIN R_ATLAS_DOMAIN R_ADMIN_UI R_ADMIN_DOMAIN R_ADMIN_ALLOW \
  R_TURN_DOMAIN R_TURN_EXTERNAL_IP R_TURN_MIN_PORT R_TURN_MAX_PORT R_REGISTRATION_TOKENS \
  R_REPORT_STATS R_SUPPORT_MXID R_SUPPORT_EMAIL

render() {
  _out="$STACK/config/$2"
  mkdir -p "$(dirname "$_out")"
  awk -f "$src/lib/render.awk" "$src/templates/$1.tmpl" >"$_out.render.$$" || die "cannot render templates/$1.tmpl"
  write_file "$_out" 0644 <"$_out.render.$$"
  rm -f "$_out.render.$$"
}

mkdir -p "$STACK/config"
render synapse/homeserver.yaml synapse/homeserver.yaml
render synapse/log.config synapse/log.config
for template in "$src"/templates/synapse/conf.d/*.yaml.tmpl; do
  name=$(basename "$template" .tmpl)
  render "synapse/conf.d/$name" "synapse/conf.d/$name"
done
render haproxy/haproxy.cfg haproxy/haproxy.cfg
for name in server client support; do
  render "well-known/$name.json" "haproxy/well-known/$name.json"
done
render coturn/turnserver.conf coturn/turnserver.conf
render element/config.json element/config.base.json
# element-config (as Atlas's UID) rewrites config.json in place with Atlas's server list; setup
# only creates it.
if [ ! -f "$STACK/config/element/config.json" ]; then
  write_file "$STACK/config/element/config.json" 0644 "$ATLAS_UID:$ATLAS_UID" <"$STACK/config/element/config.base.json"
fi
set_mode "$STACK/config/element/config.json" 0644 "$ATLAS_UID:$ATLAS_UID"

# --- a self-signed certificate until Let's Encrypt's arrives --------------------------------------
mkdir -p "$STACK/certs"
set_mode "$STACK/certs" 0700 0:0
if [ ! -s "$STACK/certs/haproxy.pem" ]; then
  sans=""
  for name in $(printf '%s' "$acme_domains" | tr ',' ' '); do sans="${sans:+$sans,}DNS:$name"; done
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 825 \
    -subj "/CN=$SERVER_NAME" -addext "subjectAltName=$sans" \
    -keyout "$STACK/certs/privkey.pem" -out "$STACK/certs/fullchain.pem" 2>/dev/null ||
    die "openssl could not make the self-signed certificate"
  cat "$STACK/certs/fullchain.pem" "$STACK/certs/privkey.pem" >"$STACK/certs/haproxy.pem"
  changed=$((changed + 1))
  info "wrote certs/haproxy.pem (self-signed: browsers will warn until Let's Encrypt's replaces it)"
fi
for file in haproxy.pem fullchain.pem privkey.pem; do set_mode "$STACK/certs/$file" 0600 0:0; done

if [ "$changed" -eq 0 ]; then
  info "setup: nothing to change in $STACK"
else
  info ""
  info "setup: the stack for $SERVER_NAME is ready in $STACK"
  info "  server_name is $SERVER_NAME, and it is permanent: user ids and rooms will carry it."
  info "  next: sh $STACK/doctor.sh, then: docker compose --project-directory $STACK up -d"
fi
