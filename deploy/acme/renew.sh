#!/bin/sh
# The `acme` service (acme.sh image): gets a Let's Encrypt certificate for every name of the stack
# over HTTP-01 (HAProxy forwards /.well-known/acme-challenge/ to port 80 here), renews it daily
# when due, and installs it: the PEM files under /certs for coturn, and HAProxy's bundle pushed
# through its runtime API, so no restart is needed. Until the first success the self-signed
# certificate from setup.sh stays in place; failures are retried every hour.
#   renew.sh            the service loop
#   renew.sh install    the hook acme.sh runs after each issue or renewal
set -eu

certs=${ACME_CERTS_DIR:-/certs}
socket=${HAPROXY_SOCKET:-/var/run/haproxy/admin.sock}
haproxy_cert=/etc/haproxy/certs/haproxy.pem

log() {
  printf 'acme: %s\n' "$*"
}

install_cert() {
  umask 077
  # One PEM bundle, every line ending in a newline and no blank line: HAProxy's runtime API ends a
  # payload at the first empty line.
  awk 1 "$certs/fullchain.pem" "$certs/privkey.pem" | tr -d '\r' | sed '/^$/d' >"$certs/haproxy.pem.new"
  # A bundle HAProxy cannot read would stop it at its next start: keep the old one then.
  if ! openssl x509 -noout -in "$certs/haproxy.pem.new" 2>/dev/null || ! openssl pkey -noout -in "$certs/haproxy.pem.new" 2>/dev/null; then
    rm -f "$certs/haproxy.pem.new"
    log "error: the new certificate or key does not parse; HAProxy keeps the current one"
    return 1
  fi
  mv "$certs/haproxy.pem.new" "$certs/haproxy.pem"
  if [ ! -S "$socket" ]; then
    log "HAProxy's socket $socket is missing; the new certificate is used at its next start"
    return 0
  fi
  answer=$({
    printf 'set ssl cert %s <<\n' "$haproxy_cert"
    cat "$certs/haproxy.pem"
    printf '\n'
  } | socat - "UNIX-CONNECT:$socket")
  case "$answer" in
    *"Transaction created"* | *"Transaction updated"*) ;;
    *) log "error: HAProxy refused the new certificate: $answer"; return 1 ;;
  esac
  answer=$(printf 'commit ssl cert %s\n' "$haproxy_cert" | socat - "UNIX-CONNECT:$socket")
  case "$answer" in
    *"Success!"*) log "installed the new certificate into HAProxy" ;;
    *) log "error: HAProxy did not commit the new certificate: $answer"; return 1 ;;
  esac
}

if [ "${1:-}" = install ]; then
  install_cert || exit 1
  exit 0
fi

[ -n "${ACME_EMAIL:-}" ] || { log "error: ACME_EMAIL is empty; run setup.sh --email you@example.org"; exit 1; }
[ -n "${ACME_DOMAINS:-}" ] || { log "error: ACME_DOMAINS is empty; run setup.sh again"; exit 1; }
server=${ACME_SERVER:-letsencrypt}
first=${ACME_DOMAINS%%,*}
set --
for name in $(printf '%s' "$ACME_DOMAINS" | tr ',' ' '); do
  set -- "$@" -d "$name"
done

acme.sh --register-account -m "$ACME_EMAIL" --server "$server" >/dev/null || true
while :; do
  if ! acme.sh --list | grep -q "^$first "; then
    log "requesting a certificate for $ACME_DOMAINS"
    if acme.sh --issue --standalone --httpport 80 --keylength ec-256 --server "$server" "$@"; then
      acme.sh --install-cert -d "$first" --ecc \
        --fullchain-file "$certs/fullchain.pem" --key-file "$certs/privkey.pem" \
        --reloadcmd "sh /deploy/acme/renew.sh install"
    else
      log "issuing failed (DNS records? port 80 open? see doctor.sh); retrying in an hour"
      sleep 3600
      continue
    fi
  fi
  # Renews when the certificate is within 30 days of expiry; runs the install hook after.
  acme.sh --cron || log "renewal check failed; retrying tomorrow"
  sleep 86400
done
