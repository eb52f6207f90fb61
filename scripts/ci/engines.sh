#!/usr/bin/env bash
# Real engines for the remote-kernel tests: a running dockerd, a one-node Docker Swarm, and the
# OpenSSH server binary (the tests start their own sshd's at test time), plus what Enterprise
# Gateway's launcher needs (python3-pycryptodome, `python`). Idempotent: installs only what is
# missing, starts dockerd only when no daemon answers, initialises the swarm only when inactive.
# Always exits 0: when an engine cannot run here it says so, and the tests that need it report
# themselves skipped with the same reason.
set -uo pipefail

log() { echo "[engines] $*"; }
DOCKERD_LOG=${KG_DOCKERD_LOG:-/var/log/kg-dockerd.log}

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo "$@"
  else return 1
  fi
}

# ---- Debian packages ------------------------------------------------------------------------
need=()
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
/usr/bin/python3 -c 'import Cryptodome' 2>/dev/null || need+=(python3-pycryptodome)
[ -x /usr/bin/python ] || need+=(python-is-python3)
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if ! { as_root apt-get update -qq && as_root apt-get install -y -qq "${need[@]}" >/dev/null; }; then
    log "could not install ${need[*]} (no root or no apt); the tests needing them will skip"
  fi
fi

# ---- dockerd --------------------------------------------------------------------------------
docker_up() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

wait_for_docker() {
  local pid=$1
  for _ in $(seq 1 60); do
    docker_up && return 0
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.5
  done
  return 1
}

start_dockerd() {
  # setsid: the daemon outlives this script and the CI step's process group.
  as_root setsid dockerd "$@" >>"$DOCKERD_LOG" 2>&1 < /dev/null &
  local pid=$!
  if wait_for_docker "$pid"; then return 0; fi
  as_root kill "$pid" 2>/dev/null
  sleep 1
  return 1
}

if ! command -v docker >/dev/null 2>&1 || ! command -v dockerd >/dev/null 2>&1; then
  log "docker: not installed; docker and swarm tests will skip"
elif docker_up; then
  log "docker: daemon already running ($(docker version --format '{{.Server.Version}}'))"
else
  log "docker: starting dockerd (log: $DOCKERD_LOG)"
  # Defaults first (overlay2, iptables, docker0); where the sandbox lacks overlayfs or
  # iptables, the fallback runs with vfs and no bridge (the tests use --network host).
  if start_dockerd; then
    log "docker: dockerd up with default flags"
  elif start_dockerd --storage-driver=vfs --iptables=false --bridge=none; then
    log "docker: dockerd up with --storage-driver=vfs --iptables=false --bridge=none"
  else
    log "docker: dockerd did not start (see $DOCKERD_LOG); docker and swarm tests will skip"
    tail -n 5 "$DOCKERD_LOG" 2>/dev/null | sed 's/^/[engines]   /'
  fi
fi

# ---- swarm ----------------------------------------------------------------------------------
if docker_up; then
  state=$(docker info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null)
  if [ "$state" = active ]; then
    log "swarm: already active"
  else
    [ "$state" = inactive ] || docker swarm leave --force >/dev/null 2>&1
    if docker swarm init --advertise-addr 127.0.0.1 >/dev/null 2>&1; then
      log "swarm: initialised a one-node swarm on 127.0.0.1"
    else
      log "swarm: docker swarm init failed; swarm tests will skip"
    fi
  fi
fi

# ---- sshd -----------------------------------------------------------------------------------
if [ -x /usr/sbin/sshd ] && command -v ssh >/dev/null 2>&1 && command -v ssh-keygen >/dev/null 2>&1; then
  log "sshd: $(/usr/sbin/sshd -V 2>&1 | head -n 1) (tests start their own on 127.0.0.2, 127.0.0.3)"
else
  log "sshd: OpenSSH server or client missing; SSH tests will skip"
fi
exit 0
