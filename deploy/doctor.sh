#!/bin/sh
# Preflight and self-check. Before the first start: programs, DNS records for every name, the
# ports the stack needs (80, 443, 8448, 3478, 5349 and the TURN relay range), NAT and the public
# address coturn must announce, memory and disk; and a reminder that server_name is permanent.
# After start (or with --after-start): the well-knowns, a federation request through the
# delegation, and a TURN allocation with credentials from the shared secret. --preflight runs the
# checks before the first start only, even when the stack runs (setup.sh runs it before starting).
#
#   sh deploy/doctor.sh [--preflight | --after-start]
#
# Exit status: 0 when nothing failed (warnings allowed), 1 otherwise.
set -eu

STACK=$(
  if [ -n "${ATLAS_DEPLOY_DIR:-}" ]; then cd "$ATLAS_DEPLOY_DIR" && pwd; else cd "$(dirname "$0")" && pwd; fi
)
# shellcheck source=lib/common.sh
. "$STACK/lib/common.sh"

after_start=no
preflight=no
while [ "$#" -gt 0 ]; do
  case "$1" in
    --after-start) after_start=yes; shift ;;
    --preflight) preflight=yes; shift ;;
    -h | --help) echo "Usage: doctor.sh [--preflight | --after-start]"; exit 0 ;;
    *) die "unknown option: $1 (see doctor.sh --help)" ;;
  esac
done
require_stack
[ "$preflight$after_start" != yesyes ] || die "--preflight and --after-start exclude each other"

failures=0
ok() { printf '  ok    %s\n' "$*"; }
bad() {
  printf '  FAIL  %s\n' "$*"
  failures=$((failures + 1))
}
note() { printf '  warn  %s\n' "$*"; }

server_name=$(env_get SERVER_NAME)
element_domain=$(env_get ELEMENT_DOMAIN)
atlas_domain=$(env_get ATLAS_DOMAIN)
admin_ui=$(env_get ADMIN_UI)
admin_domain=$(env_get ADMIN_DOMAIN)
turn_domain=$(env_get TURN_DOMAIN)
external_ip=$(env_get TURN_EXTERNAL_IP)
min_port=$(env_get TURN_MIN_PORT)
max_port=$(env_get TURN_MAX_PORT)

echo "Programs"
for program in curl openssl dig ss; do
  if command -v "$program" >/dev/null 2>&1; then ok "$program"; else bad "$program is missing (apt-get install curl openssl dnsutils iproute2)"; fi
done
have_compose=no
if [ -n "${ATLAS_DEPLOY_COMPOSE:-}" ]; then
  have_compose=yes
  ok "compose: $ATLAS_DEPLOY_COMPOSE (ATLAS_DEPLOY_COMPOSE)"
elif ! command -v docker >/dev/null 2>&1; then
  bad "docker is missing: $(docker_hint docker)"
elif ! docker compose version >/dev/null 2>&1; then
  bad "docker compose (v2) is missing: $(docker_hint compose)"
else
  have_compose=yes
  ok "docker compose"
fi

echo "Addresses"
local_ips=$(ip -4 -o addr show scope global 2>/dev/null | awk '{sub(/\/.*/, "", $4); print $4}' | tr '\n' ' ')
public_ip=""
if command -v dig >/dev/null 2>&1; then
  public_ip=$(dig +short +time=3 +tries=1 "$server_name" A | grep -E '^[0-9.]+$' | head -n 1 || true)
fi
if [ -z "$public_ip" ]; then
  bad "$server_name has no A record: point it at this machine"
else
  case " $local_ips " in
    *" $public_ip "*) ok "$server_name -> $public_ip, an address of this machine (no NAT)" ;;
    *)
      if [ "$external_ip" = "$public_ip" ]; then
        ok "$server_name -> $public_ip; behind NAT, and coturn announces $external_ip"
      else
        note "$server_name -> $public_ip is not an address of this machine ($local_ips): behind NAT? Then run setup.sh --public-ip $public_ip so that coturn announces it"
      fi
      ;;
  esac
fi

echo "DNS records"
names="$server_name $element_domain $turn_domain"
[ -z "$atlas_domain" ] || names="$names $atlas_domain"
[ "$admin_ui" != yes ] || names="$names $admin_domain"
for name in $names; do
  found=$(dig +short +time=3 +tries=1 "$name" A 2>/dev/null | grep -E '^[0-9.]+$' | head -n 1 || true)
  if [ -z "$found" ]; then
    bad "$name has no A record"
  elif [ -n "$public_ip" ] && [ "$found" != "$public_ip" ]; then
    note "$name -> $found, but $server_name -> $public_ip: is that the same machine?"
  else
    ok "$name -> $found"
  fi
done

echo "Ports"
running_services=""
if [ "$have_compose" = yes ]; then
  running_services=$(compose ps --status running --services 2>/dev/null || true)
fi
is_running() { printf '%s\n' "$running_services" | grep -qx "$1"; }
running=no
if is_running haproxy; then running=yes; fi
# listening PROTO PORT: whether something listens there (PROTO t or u).
listening() { [ -n "$(ss -Hl"$1"n "sport = :$2" 2>/dev/null)" ]; }
# holder PROTO PORT: the program listening there, as "name (pid N)".
holder() {
  ss -Hl"$1"np "sport = :$2" 2>/dev/null | sed -n 's/.*users:(("\([^"]*\)",pid=\([0-9]*\).*/\1 (pid \2)/p' | head -n 1
}
# A port is the stack's while the service that publishes it runs (HAProxy's through Docker's
# proxy, coturn's on the host network); otherwise whatever listens there is in the way.
for entry in 80:haproxy 443:haproxy 8448:haproxy 3478:coturn 5349:coturn; do
  port=${entry%%:*}
  owner=${entry#*:}
  if is_running "$owner"; then
    if listening t "$port"; then ok "tcp $port is listening ($owner)"; else bad "tcp $port is not listening: is $owner up? docker compose ps; docker compose logs $owner"; fi
  elif listening t "$port"; then
    taker=$(holder t "$port")
    bad "tcp $port is taken by ${taker:-another program}, and the stack's $owner needs it: stop that program (or move it to another port), then run this again; ss -ltnp 'sport = :$port' shows it"
  elif [ "$preflight" = no ] && { [ "$running" = yes ] || [ "$after_start" = yes ]; }; then
    # Before a start (--preflight), a service of a half-started stack may be down: setup.sh
    # starts it next, and its port being free is what counts.
    bad "tcp $port is not listening: $owner is not running: docker compose up -d $owner; docker compose logs $owner"
  else
    ok "tcp $port is free"
  fi
done
if is_running coturn && listening u 3478; then
  ok "udp 3478 is listening (coturn)"
elif listening u 3478; then
  taker=$(holder u 3478)
  bad "udp 3478 is taken by ${taker:-another program}, and the stack's coturn needs it: stop that program, then run this again; ss -lunp 'sport = :3478' shows it"
else
  ok "udp 3478 $([ "$running" = yes ] && echo 'is not listening yet' || echo 'is free')"
fi
echo "  info  open in the firewall: tcp 80, 443, 8448, 3478, 5349; udp 3478, 5349 and $min_port-$max_port (TURN relays)"

echo "Machine"
mem_kib=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo 2>/dev/null || echo 0)
if [ "$mem_kib" -ge 3800000 ]; then ok "memory: $((mem_kib / 1024)) MiB"; else note "memory: $((mem_kib / 1024)) MiB; 4 GiB or more is advised for Synapse, PostgreSQL, Meilisearch and Atlas"; fi
docker_root=/var/lib/docker
[ -d "$docker_root" ] || docker_root=/
free_kib=$(df -Pk "$docker_root" | awk 'NR == 2 {print $4}')
# The images alone take about 3 GiB, and PostgreSQL stops writing when its disk is full.
if [ "$free_kib" -ge 20000000 ]; then
  ok "disk: $((free_kib / 1024 / 1024)) GiB free"
elif [ "$free_kib" -ge 5000000 ]; then
  note "disk: $((free_kib / 1024 / 1024)) GiB free under $docker_root; media and databases grow, 20 GiB or more is advised"
else
  bad "disk: only $((free_kib / 1024)) MiB free under $docker_root, and the images alone need about 3 GiB: free some space (docker system prune removes unused images) or grow the disk"
fi

if [ "$running" = no ] && [ "$after_start" = no ]; then
  echo ""
  echo "Before the first start: server_name is $server_name, and it is PERMANENT."
  echo "User ids (@you:$server_name), rooms and the signing key are tied to it; changing it later"
  echo "means a new server with new accounts. If that is not the name you want, run setup.sh with"
  echo "another --dir now."
fi

if [ "$preflight" = no ] && { [ "$running" = yes ] || [ "$after_start" = yes ]; }; then
  echo "Server (from outside)"
  # Without --email the stack serves the self-signed certificate setup.sh made: trust that one
  # certificate for these checks (and say so), rather than fail every check on it.
  cacert=""
  cert="$STACK/certs/fullchain.pem"
  if [ -z "${CURL_CA_BUNDLE:-}" ] && [ -r "$cert" ] &&
    [ "$(openssl x509 -in "$cert" -noout -subject 2>/dev/null | sed 's/^subject=//')" = \
      "$(openssl x509 -in "$cert" -noout -issuer 2>/dev/null | sed 's/^issuer=//')" ]; then
    cacert=$cert
    note "the certificate is the self-signed one from setup.sh: browsers warn and other servers refuse to federate until Let's Encrypt's replaces it (setup.sh --email you@example.org; docker compose logs acme)"
  fi
  curl() {
    if [ -n "$cacert" ]; then command curl --cacert "$cacert" "$@"; else command curl "$@"; fi
  }
  check_json() {
    headers=$(curl -sS --max-time 10 -D - -o /dev/null "$1" 2>&1) || {
      bad "$1: $headers"
      return
    }
    if ! printf '%s' "$headers" | grep -qi '^content-type: *application/json'; then
      bad "$1 is not served as application/json (clients ignore it): run setup.sh again and restart haproxy"
    elif ! printf '%s' "$headers" | grep -qi '^access-control-allow-origin: *\*'; then
      bad "$1 has no Access-Control-Allow-Origin: * (web clients cannot read it): run setup.sh again and restart haproxy"
    else
      ok "$1"
    fi
  }
  check_json "https://$server_name/.well-known/matrix/server"
  check_json "https://$server_name/.well-known/matrix/client"
  delegated=$(curl -sS --max-time 10 "https://$server_name/.well-known/matrix/server" 2>/dev/null |
    sed -n 's/.*"m.server" *: *"\([^"]*\)".*/\1/p')
  # Server discovery (Matrix server-server API, "Resolving server names"): a delegated name
  # without a port means port 8448 (unless SRV records say otherwise; doctor does not follow SRV).
  case "$delegated" in
    "") target="" ;;
    *\]:* | [!\[]*:*) target=$delegated ;;
    *) target="$delegated:8448" ;;
  esac
  if [ -z "$target" ]; then
    bad "https://$server_name/.well-known/matrix/server has no m.server: other servers cannot find this one; run setup.sh again and restart haproxy"
  else
    version=$(curl -sS --max-time 10 "https://$target/_matrix/federation/v1/version" 2>&1) || true
    key=$(curl -sS --max-time 10 "https://$target/_matrix/key/v2/server" 2>&1) || true
    case "$version" in
      *'"server"'*)
        if printf '%s' "$key" | grep -Fq "\"server_name\":\"$server_name\""; then
          ok "federation through the delegation to $target: $version"
        else
          bad "https://$target/_matrix/key/v2/server is not the key of $server_name ($key): the well-known delegates to another server; fix m.server with setup.sh"
        fi
        ;;
      *) bad "federation request through the delegation to https://$target/_matrix/federation/v1/version failed ($version): is that port open and routed to Synapse? docker compose logs haproxy synapse" ;;
    esac
  fi
  if curl -fsS --max-time 10 -o /dev/null "https://$server_name:8448/_matrix/federation/v1/version" 2>/dev/null; then
    ok "port 8448 answers federation requests"
  else
    bad "https://$server_name:8448/ does not answer federation requests: open tcp 8448 in the firewall; docker compose logs haproxy"
  fi
  # A TURN allocation with TURN REST API credentials from the shared secret (username
  # "expiry:user", password base64(HMAC-SHA1(secret, username))), as Synapse hands them to
  # clients; from coturn's own container, on the host's network. -y relays between two
  # allocations, so the relay address must be one coturn accepts as a peer (a public one).
  secret=$(head -n 1 "$STACK/secrets/turn_shared_secret" 2>/dev/null || true)
  if [ -z "$secret" ]; then
    bad "cannot read secrets/turn_shared_secret (run doctor.sh as root)"
  elif ! printf '%s\n' "$running_services" | grep -qx coturn; then
    bad "coturn is not running, so voice and video calls cannot relay: docker compose up -d coturn; then docker compose logs coturn"
  else
    turn_user="$(($(date +%s) + 600)):doctor"
    turn_password=$(printf '%s' "$turn_user" | openssl dgst -sha1 -mac HMAC -macopt "key:$secret" -binary | openssl base64 -A)
    turn_out=$(compose exec -T coturn timeout 30 turnutils_uclient -y -c -n 1 -m 1 -l 64 \
      -u "$turn_user" -w "$turn_password" "$turn_domain" 2>&1) && turn_status=0 || turn_status=$?
    if [ "$turn_status" -eq 0 ]; then
      ok "TURN allocation on $turn_domain:3478 with credentials from the shared secret"
    else
      case "$turn_out" in
        *"Cannot complete Allocation"*)
          bad "coturn on $turn_domain:3478 refused the allocation: it does not use secrets/turn_shared_secret? docker compose up -d --force-recreate coturn; docker compose logs coturn" ;;
        *"403"*)
          bad "coturn allocated a relay on a private address, which it refuses as a peer: clients outside cannot use it. Behind NAT run setup.sh --public-ip <public address>, then docker compose up -d coturn" ;;
        *)
          bad "TURN allocation on $turn_domain:3478 failed ($(printf '%s' "$turn_out" | tail -n 1)): is udp 3478 open in the firewall and $turn_domain this machine? docker compose logs coturn" ;;
      esac
    fi
  fi
fi

echo ""
if [ "$failures" -gt 0 ]; then
  echo "doctor: $failures problem(s) found"
  exit 1
fi
echo "doctor: no problems found"
