# Shared helpers for the deploy scripts. Sourced, never run: `. "$here/lib/common.sh"`.
# POSIX sh. Every failure goes through `die` with a message that says what to do.

die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

info() {
  printf '%s\n' "$*" >&2
}

warn() {
  printf 'warning: %s\n' "$*" >&2
}

# The folder the stack lives in: where .env, compose.yaml, config/ and secrets/ are.
# ATLAS_DEPLOY_DIR overrides it (a stack rendered somewhere else by `setup.sh --dir`).
stack_dir() {
  if [ -n "${ATLAS_DEPLOY_DIR:-}" ]; then
    (cd "$ATLAS_DEPLOY_DIR" && pwd) || die "ATLAS_DEPLOY_DIR=$ATLAS_DEPLOY_DIR is not a folder"
  else
    (cd "$(dirname "$0")" && pwd)
  fi
}

# Reads one KEY=value line from the stack's .env (no shell evaluation of the file).
env_get() {
  _file="$STACK/.env"
  [ -f "$_file" ] || die "$_file is missing; run setup.sh first"
  sed -n "s/^$1=//p" "$_file" | tail -n 1
}

require_stack() {
  [ -f "$STACK/.env" ] || die "no stack in $STACK (.env is missing); run setup.sh --domain <your domain> first"
  [ -f "$STACK/compose.yaml" ] || die "$STACK/compose.yaml is missing; run setup.sh again"
}

# `docker compose` for this stack. ATLAS_DEPLOY_COMPOSE replaces the program (tests use a stand-in
# that runs the same commands without a Docker engine).
compose() {
  if [ -n "${ATLAS_DEPLOY_COMPOSE:-}" ]; then
    # Word splitting is wanted: the variable holds a command line.
    # shellcheck disable=SC2086
    $ATLAS_DEPLOY_COMPOSE --project-directory "$STACK" -f "$STACK/compose.yaml" --env-file "$STACK/.env" "$@"
  else
    docker compose --project-directory "$STACK" -f "$STACK/compose.yaml" --env-file "$STACK/.env" "$@"
  fi
}

# What to install for `$1` (docker: Docker itself; compose: its Compose v2 plugin) on this system,
# as one line. The names differ: Debian's own docker.io has no Compose v2 at all (Docker's apt
# repository has it, as docker-compose-plugin); Ubuntu packages Compose v2 as docker-compose-v2;
# where Docker's own docker-ce is installed, its repository's docker-compose-plugin is the match.
# The system is read from /etc/os-release (ATLAS_OS_RELEASE names another file, for tests).
docker_hint() {
  _os_id=$(sed -n 's/^ID=//p' "${ATLAS_OS_RELEASE:-/etc/os-release}" 2>/dev/null | tr -d '"' | head -n 1)
  _docker_ce=no
  if dpkg-query -W -f='${Status}' docker-ce 2>/dev/null | grep -q 'ok installed'; then _docker_ce=yes; fi
  case "$1:$_os_id:$_docker_ce" in
    compose:*:yes) echo "apt-get install docker-compose-plugin (from Docker's apt repository, like your docker-ce)" ;;
    compose:ubuntu:no) echo "apt-get install docker-compose-v2 (Ubuntu's package of Compose v2)" ;;
    compose:debian:no) echo "Debian's docker.io has no Compose v2: install docker-ce and docker-compose-plugin from Docker's apt repository, as deploy/README.md step 1 shows" ;;
    docker:ubuntu:*) echo "apt-get install docker.io docker-compose-v2 docker-buildx (Ubuntu's packages), or Docker's own as deploy/README.md step 1 shows" ;;
    docker:debian:*) echo "install docker-ce and docker-compose-plugin from Docker's apt repository, as deploy/README.md step 1 shows (Debian's docker.io has no Compose v2)" ;;
    *) echo "install Docker Engine with its Compose v2 plugin: https://docs.docker.com/engine/install/" ;;
  esac
}

require_compose() {
  if [ -n "${ATLAS_DEPLOY_COMPOSE:-}" ]; then
    return 0
  fi
  command -v docker >/dev/null 2>&1 || die "docker is not installed; $(docker_hint docker)"
  docker compose version >/dev/null 2>&1 || die "Docker Compose v2 (\`docker compose\`) is missing; $(docker_hint compose)"
}

require_program() {
  command -v "$1" >/dev/null 2>&1 || die "$1 is not installed; $2"
}

# Valid DNS name: labels of letters, digits and hyphens, at least one dot, no trailing dot.
is_domain() {
  printf '%s' "$1" | grep -Eq '^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$'
}

is_ipv4() {
  printf '%s' "$1" | grep -Eq '^([0-9]{1,3}\.){3}[0-9]{1,3}$'
}

is_email() {
  printf '%s' "$1" | grep -Eq '^[A-Za-z0-9._%+-]+@([A-Za-z0-9-]+\.)+[A-Za-z]{2,63}$'
}

# Random secret of [A-Za-z0-9] only, so it is safe in URLs, pgpass lines and config files.
random_token() {
  openssl rand -base64 "$(($1 * 2))" | tr -dc 'A-Za-z0-9' | cut -c "1-$1"
}
