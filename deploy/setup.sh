#!/bin/sh
# Sets up the stack and starts it. First it renders: writes .env, generates every secret into its
# own 0600 file under secrets/, renders every config under config/ from templates/, and makes a
# self-signed certificate so that HAProxy starts before Let's Encrypt has answered. Then (unless
# --no-start) it runs doctor.sh's pre-flight checks, restarts the running services whose rendered
# files changed, starts the services one after the other and waits until each is healthy, creates
# the first admin with a generated password, and runs doctor.sh --after-start.
#
#   sh deploy/setup.sh --domain example.org [--atlas-domain directory.example.org] [--email you@example.org] --admin alice
#
# Idempotent: a second run with the same answers changes nothing, secrets are never regenerated
# and users are never touched. Answers given once are kept in .env; later runs need only the
# options that change. A run that fails or is killed half-way is finished by the next one: the
# services to restart are written down (.setup-restarts) before anything they read changes.
set -eu
setup_started=$(date +%s)

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
  --support-user NAME       local user named as the contact in /.well-known/matrix/support
                            (default: the --admin user, or admin)
  --admin NAME              the first server admin, created with a generated password kept in
                            secrets/admin-NAME.password (0600); an existing user is left as it is
  --show-password           print the admin's password at the end (otherwise only its file)
  --no-start                render only: do not check the machine, start the stack or create users
  --timeout SECONDS         how long to wait for each service to become healthy (default 300)
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
opt_admin=""
show_password=no
start=yes
wait_timeout=300

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
    --admin) need_value "$@"; opt_admin=$2; shift 2 ;;
    --show-password) show_password=yes; shift ;;
    --no-start) start=no; shift ;;
    --timeout) need_value "$@"; wait_timeout=$2; shift 2 ;;
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
ADMIN_USER=$(pick "$opt_admin" "$(previous ADMIN_USER)")
SUPPORT_USER=$(pick "$opt_support_user" "$(previous SUPPORT_USER)")
SUPPORT_USER=$(pick "$SUPPORT_USER" "$ADMIN_USER")
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
# A Matrix localpart (spec: "User Identifiers") that is also a file name: no / or +.
if [ -n "$ADMIN_USER" ] && ! printf '%s' "$ADMIN_USER" | grep -Eq '^[a-z0-9_=-][a-z0-9._=-]{0,99}$'; then
  die "--admin $ADMIN_USER is not a valid user name: use lowercase letters, digits and . _ = - only"
fi
case "$wait_timeout" in *[!0-9]* | "" | 0) die "--timeout takes a number of seconds, e.g. 300" ;; esac
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
# The services a running stack must restart to read what this run changed. Written down before
# each change lands, so that a run killed after the change and before the restart leaves the
# restart to the next run; removed once every restart is done.
pending_restarts="$STACK/.setup-restarts"

# The services that read a file of the stack (compose.yaml and .env are compose's own business:
# `up` recreates what they change).
services_reading() {
  case "$1" in
    config/synapse/*) echo synapse ;;
    config/haproxy/*) echo haproxy ;;
    config/coturn/*) echo coturn ;;
    config/element/config.base.json) echo element-config ;;
    config/element/config.json) echo element element-config ;;
    certs/*) echo haproxy coturn ;;
    coturn/entrypoint.sh) echo coturn ;;
    meilisearch/entrypoint.sh) echo meilisearch ;;
    acme/renew.sh) echo acme ;;
    secrets/turn_shared_secret) echo synapse coturn ;;
    secrets/synapse_*) echo synapse ;;
    secrets/meili_master_key) echo meilisearch atlas-api crawler element-config ;;
    secrets/atlas_*) echo atlas-api crawler element-config ;;
  esac
}

# changing FILE: notes the services that must restart to read FILE, before it changes.
changing() {
  _services=$(services_reading "${1#"$STACK"/}")
  if [ -n "$_services" ]; then
    # One name a line; word splitting of the list is wanted.
    # shellcheck disable=SC2086
    printf '%s\n' $_services >>"$pending_restarts" || die "cannot write $pending_restarts"
  fi
}

# Writes stdin to $1 with mode $2 (and owner $3) only when the content differs, so that a second
# run leaves every file untouched.
write_file() {
  _dest=$1
  _tmp="$_dest.tmp.$$"
  (umask 077 && cat >"$_tmp") || die "cannot write $_tmp"
  if [ -f "$_dest" ] && cmp -s "$_tmp" "$_dest"; then
    rm -f "$_tmp"
  else
    changing "$_dest"
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
setup_env=$(cat <<EOF
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
ADMIN_USER=$ADMIN_USER
SYNAPSE_UID=$SYNAPSE_UID
SYNAPSE_GID=$SYNAPSE_GID
ATLAS_UID=$ATLAS_UID
ATLAS_SOURCE=$(cd "$src/.." && pwd)
EOF
)
# Settings added by hand that setup.sh does not ask about (ATLAS_TRUSTED_PROXIES, ATLAS_MEDIA,
# ATLAS_MEDIA_CACHE_MB, ATLAS_LOG_LEVEL...) are carried over as they are, after its own.
kept_settings=''
if [ -f "$STACK/.env" ]; then
  setup_keys=$(printf '%s\n' "$setup_env" | sed -n 's/^\([A-Za-z_][A-Za-z0-9_]*\)=.*/\1/p' | tr '\n' ' ')
  kept_settings=$(awk -v own="$setup_keys" '
    BEGIN { n = split(own, keys, " "); for (i = 1; i <= n; i++) setup[keys[i]] = 1 }
    /^[A-Za-z_][A-Za-z0-9_]*=/ { key = substr($0, 1, index($0, "=") - 1); if (!(key in setup)) print }
  ' "$STACK/.env") || die "cannot read $STACK/.env"
fi
if [ -n "$kept_settings" ]; then
  setup_env="$setup_env
# Added by hand; setup.sh keeps these as they are.
$kept_settings"
fi
write_file "$STACK/.env" 0644 <<EOF
$setup_env
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
  changing "$STACK/certs/haproxy.pem"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 825 \
    -subj "/CN=$SERVER_NAME" -addext "subjectAltName=$sans" \
    -keyout "$STACK/certs/privkey.pem" -out "$STACK/certs/fullchain.pem" 2>/dev/null ||
    die "openssl could not make the self-signed certificate"
  # haproxy.pem last, and whole or not at all: its presence says the three files are complete.
  if ! (umask 077 && cat "$STACK/certs/fullchain.pem" "$STACK/certs/privkey.pem" >"$STACK/certs/haproxy.pem.tmp.$$") ||
    ! mv "$STACK/certs/haproxy.pem.tmp.$$" "$STACK/certs/haproxy.pem"; then
    die "cannot write certs/haproxy.pem"
  fi
  changed=$((changed + 1))
  info "wrote certs/haproxy.pem (self-signed: browsers will warn until Let's Encrypt's replaces it)"
fi
for file in haproxy.pem fullchain.pem privkey.pem; do set_mode "$STACK/certs/$file" 0600 0:0; done

if [ "$changed" -eq 0 ]; then
  info "setup: nothing to change in $STACK"
elif [ "$start" = no ]; then
  info ""
  info "setup: the stack for $SERVER_NAME is ready in $STACK"
  info "  server_name is $SERVER_NAME, and it is permanent: user ids and rooms will carry it."
  info "  next: sh $STACK/doctor.sh, then: docker compose --project-directory $STACK up -d"
  info "  (or run setup.sh again without --no-start: it does both, and creates the first admin)"
else
  info "setup: wrote the stack for $SERVER_NAME into $STACK"
fi
[ "$start" = yes ] || exit 0

# --- start ---------------------------------------------------------------------------------------
export ATLAS_DEPLOY_DIR="$STACK"
elapsed() { echo "$(($(date +%s) - $1)) s"; }

info ""
info "setup: checking the machine before starting (doctor.sh --preflight)"
if ! sh "$STACK/doctor.sh" --preflight; then
  die "a check before the start failed: each FAIL above says what to do. Nothing was started; run setup.sh again once it is fixed"
fi
require_compose

# The long-running services in the order they come up; the one-shots (init, migrate) run as
# their dependencies. Profiles as .env turns them on.
services="postgres redis meilisearch synapse atlas-api crawler element-config element haproxy coturn"
[ -z "$ACME_EMAIL" ] || services="$services acme"
[ "$ADMIN_UI" != yes ] || services="$services synapse-admin"

# What the running services must restart for (this run's changes and any an earlier run left).
running_services=$(compose ps --status running --services 2>/dev/null || true)
restarts=""
if [ -f "$pending_restarts" ]; then
  while IFS= read -r service; do
    if printf '%s\n' "$running_services" | grep -qx "$service"; then restarts="$restarts $service"; fi
  done <<EOF
$(sort -u "$pending_restarts")
EOF
fi
for service in $restarts; do
  info "setup: restarting $service (what it reads has changed)"
  compose restart "$service" || die "docker compose restart $service failed; run setup.sh again"
done
# Every running service has read the files as they are now, and the others will when they start.
rm -f "$pending_restarts"

info "setup: pulling the images that are missing (the first time: all of them)"
compose pull --policy missing --ignore-buildable ||
  die "pulling images failed (is the network up? docker compose pull says why); run setup.sh again"

# One-shot services a service waits for: their logs matter when it does not come up.
oneshots_of() {
  case "$1" in
    synapse) echo init ;;
    atlas-api | crawler | element-config) echo migrate ;;
  esac
}
for service in $services; do
  since=$(date +%s)
  info "setup: starting $service, waiting up to $wait_timeout s until it is healthy"
  # shellcheck disable=SC2046 # one name or none
  if ! compose up -d --wait --wait-timeout "$wait_timeout" "$service"; then
    info "setup: $service did not come up; the last lines it printed:"
    compose logs --no-color --tail 60 "$service" $(oneshots_of "$service") >&2 || true
    die "$service is not healthy after $(elapsed "$since"): the log above says why (docker compose logs $service for all of it). What is up stays up; run setup.sh again once it is fixed"
  fi
  info "setup: $service is up ($(elapsed "$since"))"
done

# With --email, Let's Encrypt's certificate replaces the self-signed one within a minute or two;
# doctor.sh's checks from outside are worth more with it.
self_signed() {
  [ "$(openssl x509 -in "$STACK/certs/fullchain.pem" -noout -subject 2>/dev/null | sed 's/^subject=//')" = \
    "$(openssl x509 -in "$STACK/certs/fullchain.pem" -noout -issuer 2>/dev/null | sed 's/^issuer=//')" ]
}
if [ -n "$ACME_EMAIL" ] && self_signed; then
  if compose ps --status running --services 2>/dev/null | grep -qx acme; then
    info "setup: waiting up to $wait_timeout s for Let's Encrypt's certificate (acme)"
    since=$(date +%s)
    while self_signed && [ "$(($(date +%s) - since))" -lt "$wait_timeout" ]; do sleep 5; done
    self_signed && warn "no certificate from Let's Encrypt yet: do the DNS records point here and is port 80 open? docker compose logs acme"
  else
    warn "the acme service is not running, so the certificate stays self-signed: docker compose logs acme"
  fi
fi

admin_id=""
password_file=""
if [ -n "$ADMIN_USER" ]; then
  admin_id="@$ADMIN_USER:$SERVER_NAME"
  password_file="$STACK/secrets/admin-$ADMIN_USER.password"
  # The password exists before the user does: a run killed in between registers the same one.
  new_password=no
  if [ ! -s "$password_file" ]; then
    if ! (umask 077 && random_token 24 >"$password_file.tmp.$$") || ! mv "$password_file.tmp.$$" "$password_file"; then
      die "cannot write $password_file"
    fi
    new_password=yes
  fi
  set_mode "$password_file" 0600 0:0
  info "setup: creating the admin $admin_id"
  added=$(sh "$STACK/adduser.sh" "$ADMIN_USER" --admin --exist-ok <"$password_file" 2>&1) || {
    info "$added"
    die "creating $admin_id failed (see above); run setup.sh again"
  }
  info "$added"
  case "$added" in
    *"exists already"*)
      if [ "$new_password" = yes ]; then
        # Made before this setup (by hand, or restored): its password is not the generated one.
        rm -f "$password_file"
        password_file=""
      fi
      ;;
  esac
fi
info "setup: checking the server from outside (doctor.sh --after-start)"
doctor=ok
sh "$STACK/doctor.sh" --after-start || doctor=failed

if [ -n "$ATLAS_DOMAIN" ]; then atlas_url="https://$ATLAS_DOMAIN/"; else atlas_url="https://$SERVER_NAME/atlas/"; fi
echo ""
echo "The Matrix server $SERVER_NAME is up ($(elapsed "$setup_started") for this run)."
echo "  Element:        https://$ELEMENT_DOMAIN/"
if [ -n "$ADMIN_USER" ]; then
  echo "  Admin:          $admin_id"
  if [ -z "$password_file" ]; then
    echo "  Password:       the one it had: the user existed before setup.sh made one"
  elif [ "$show_password" = yes ]; then
    echo "  Password:       $(head -n 1 "$password_file") (also in $password_file)"
  else
    echo "  Password:       in $password_file (sudo cat it; change it in Element's settings)"
  fi
else
  echo "  Admin:          none yet: sh $STACK/adduser.sh NAME --admin"
fi
echo "  Atlas:          $atlas_url"
echo "  More users:     sh $STACK/adduser.sh NAME   (--admin for another server admin)"
if [ "$doctor" = failed ]; then
  die "doctor.sh found problems from outside (FAIL above, each with its fix); the stack runs. Run setup.sh (or doctor.sh --after-start) again once they are fixed"
fi
