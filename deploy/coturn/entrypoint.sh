#!/bin/sh
# coturn's start. The rendered turnserver.conf holds no secret: this script copies it into a
# tmpfs with the TURN REST shared secret and the TLS files added, then runs turnserver, which drops
# to an unprivileged user. Without certificates coturn starts with plain TURN/STUN only (no TLS on
# 5349) instead of failing; when the certificate changes (a Let's Encrypt renewal) the script exits
# so that the restart policy starts coturn again with the new one.
set -eu

config=${COTURN_CONFIG:-/etc/coturn/turnserver.conf}
secret_file=${TURN_SECRET_FILE:-/run/secrets/turn_shared_secret}
cert=${COTURN_CERT:-/certs/fullchain.pem}
key=${COTURN_KEY:-/certs/privkey.pem}
run_dir=${COTURN_RUN_DIR:-/run/coturn}
user=${COTURN_USER:-nobody}
group=${COTURN_GROUP:-nogroup}
check_seconds=${COTURN_CERT_CHECK_SECONDS:-3600}

die() {
  printf 'coturn: error: %s\n' "$*" >&2
  exit 1
}

[ -r "$config" ] || die "$config is missing; run setup.sh on the host"
[ -r "$secret_file" ] || die "cannot read the TURN secret $secret_file; run setup.sh on the host"
secret=$(head -n 1 "$secret_file")
[ -n "$secret" ] || die "$secret_file is empty"
getent group "$group" >/dev/null 2>&1 || group=nobody

mkdir -p "$run_dir"
chmod 0700 "$run_dir"
umask 077
{
  cat "$config"
  echo
  echo "# Added at start by entrypoint.sh:"
  echo "static-auth-secret=$secret"
  # coturn opens its user database (SQLite) even with static secrets; keep it where the
  # unprivileged user can open it after the switch, or every TURN request fails as unauthorized.
  echo "userdb=$run_dir/turndb"
} >"$run_dir/turnserver.conf"
: >"$run_dir/turndb"

cert_sum() {
  cat "$cert" "$key" 2>/dev/null | cksum
}
if [ -r "$cert" ] && [ -r "$key" ]; then
  cp "$cert" "$run_dir/cert.pem"
  cp "$key" "$run_dir/key.pem"
  {
    echo "cert=$run_dir/cert.pem"
    echo "pkey=$run_dir/key.pem"
  } >>"$run_dir/turnserver.conf"
else
  echo "coturn: warning: no certificate at $cert and $key; starting without TLS (5349 stays closed)" >&2
  {
    echo "no-tls"
    echo "no-dtls"
  } >>"$run_dir/turnserver.conf"
fi
chown -R "$user:$group" "$run_dir"
started_sum=$(cert_sum)

turnserver -c "$run_dir/turnserver.conf" --proc-user "$user" --proc-group "$group" "$@" &
pid=$!
trap 'kill -TERM "$pid" 2>/dev/null || true' TERM INT
(
  while sleep "$check_seconds"; do
    if [ "$(cert_sum)" != "$started_sum" ]; then
      echo "coturn: the certificate changed; restarting to load it"
      kill -TERM "$pid" 2>/dev/null || true
      exit 0
    fi
  done
) &
watcher=$!
status=0
wait "$pid" || status=$?
# A trapped signal interrupts `wait`; wait again for turnserver itself to finish.
if kill -0 "$pid" 2>/dev/null; then wait "$pid" || status=$?; fi
kill "$watcher" 2>/dev/null || true
exit "$status"
