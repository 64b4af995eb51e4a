#!/usr/bin/env bash
# Builds a small PostgreSQL 15 image from Debian bookworm's packages, on this
# machine, without any container registry: debootstrap a minimal root file
# system, install postgresql-15 into it, trim it, and `docker import` it with
# an entrypoint that behaves like the official image's (POSTGRES_USER,
# POSTGRES_PASSWORD, POSTGRES_DB, POSTGRES_HOST_AUTH_METHOD; listens on all
# addresses; logs to stderr).
#
#   scripts/build-postgres-image.sh [TAG]      # default eventsourcing-postgres:15-bookworm
#
# If the image TAG is present already it does nothing. It needs root (for
# debootstrap and chroot) and installs debootstrap with apt-get if missing.
# The Debian mirror is the one this machine's apt uses for bookworm (from
# /etc/apt/sources.list or /etc/apt/sources.list.d), or DEBIAN_MIRROR.
set -euo pipefail

TAG="${1:-${EVENTSOURCING_LOCAL_POSTGRES_IMAGE:-eventsourcing-postgres:15-bookworm}}"
SUITE=bookworm
PG_MAJOR=15
here="$(cd "$(dirname "$0")" && pwd)"

log() { echo "build-postgres-image: $*" >&2; }

if ! docker info >/dev/null 2>&1; then
  log "no Docker engine answers (docker info failed); cannot build $TAG"
  exit 1
fi
if docker image inspect "$TAG" >/dev/null 2>&1; then
  log "image $TAG is present; not rebuilding (docker rmi $TAG to rebuild)"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    log "not root: re-running with sudo"
    exec sudo --preserve-env=DEBIAN_MIRROR,EVENTSOURCING_LOCAL_POSTGRES_IMAGE "$0" "$@"
  fi
  log "root is needed (debootstrap, chroot); run as root or install sudo"
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
if ! command -v debootstrap >/dev/null 2>&1; then
  log "installing debootstrap"
  apt-get update -qq
  apt-get install -y -qq debootstrap >/dev/null
fi

# detect_mirror prints the URI this machine's apt uses for the suite:
# deb822 .sources files first, then one-line sources.list entries.
detect_mirror() {
  local f uri
  if [ -n "${DEBIAN_MIRROR:-}" ]; then
    echo "$DEBIAN_MIRROR"
    return
  fi
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    uri="$(awk -v suite="$SUITE" '
      BEGIN { RS = ""; FS = "\n" }
      {
        types = ""; uris = ""; suites = ""; enabled = "yes"
        for (i = 1; i <= NF; i++) {
          line = $i
          if (line ~ /^[ \t]*#/) continue
          if (line ~ /^Types:/)   { sub(/^Types:[ \t]*/, "", line); types = line }
          if (line ~ /^URIs:/)    { sub(/^URIs:[ \t]*/, "", line); uris = line }
          if (line ~ /^Suites:/)  { sub(/^Suites:[ \t]*/, "", line); suites = line }
          if (line ~ /^Enabled:/) { sub(/^Enabled:[ \t]*/, "", line); enabled = line }
        }
        if (enabled == "no" || (" " types " ") !~ / deb /) next
        if ((" " suites " ") ~ (" " suite " ")) { split(uris, u, /[ \t]+/); print u[1]; exit }
      }' "$f")"
    if [ -n "$uri" ]; then
      echo "$uri"
      return
    fi
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    uri="$(awk -v suite="$SUITE" '
      $1 == "deb" {
        i = 2
        if ($i ~ /^\[/) { while ($i !~ /\]$/ && i < NF) i++; i++ }
        if ($(i + 1) == suite) { print $i; exit }
      }' "$f")"
    if [ -n "$uri" ]; then
      echo "$uri"
      return
    fi
  done
  echo "http://deb.debian.org/debian"
}

mirror="$(detect_mirror)"
work="$(mktemp -d /var/tmp/eventsourcing-postgres-image.XXXXXX)"
root="$work/root"
cleanup() {
  local status=$?
  if mountpoint -q "$root/proc" 2>/dev/null; then umount -l "$root/proc" || true; fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT

start=$SECONDS
log "debootstrap --variant=minbase $SUITE from $mirror into $root"
if ! debootstrap --variant=minbase "$SUITE" "$root" "$mirror" >"$work/debootstrap.log" 2>&1; then
  tail -n 30 "$work/debootstrap.log" >&2
  [ -f "$root/debootstrap/debootstrap.log" ] && tail -n 30 "$root/debootstrap/debootstrap.log" >&2
  log "debootstrap failed"
  exit 1
fi
log "minimal root ready after $((SECONDS - start))s; installing postgresql-$PG_MAJOR"

# Nothing may start a server inside the chroot, and the package must not
# create a cluster: the entrypoint initialises one when the container starts.
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"
mkdir -p "$root/etc/postgresql-common/createcluster.d"
echo "create_main_cluster = false" >"$root/etc/postgresql-common/createcluster.d/no-main-cluster.conf"
mount -t proc proc "$root/proc"
if ! chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -qq --no-install-recommends "postgresql-$PG_MAJOR" >"$work/apt.log" 2>&1; then
  tail -n 40 "$work/apt.log" >&2
  log "installing postgresql-$PG_MAJOR failed"
  exit 1
fi
umount "$root/proc"
log "postgresql-$PG_MAJOR installed after $((SECONDS - start))s; trimming"

# Keep it small. JIT compilation is off in the entrypoint's configuration,
# so LLVM and Z3 (about 130 MB) and the JIT provider go; so do documentation,
# translations, locale sources (the cluster uses C.UTF-8, built into the C
# library), apt's lists and caches, and any cluster the package made.
chroot "$root" dpkg --purge --force-depends libllvm14 libz3-4 >/dev/null 2>&1 || true
rm -rf "$root/usr/lib/postgresql/$PG_MAJOR/lib/llvmjit"* "$root/usr/lib/postgresql/$PG_MAJOR/lib/bitcode" \
  "$root/usr/share/doc/"* "$root/usr/share/man/"* "$root/usr/share/info/"* "$root/usr/share/locale/"* "$root/usr/share/i18n" \
  "$root/usr/share/lintian" "$root/var/lib/apt/lists/"* "$root/var/cache/apt/"* "$root/var/cache/debconf/"*-old \
  "$root/var/log/"* "$root/var/lib/postgresql/$PG_MAJOR" "$root/etc/postgresql/$PG_MAJOR" \
  "$root/usr/sbin/policy-rc.d" "$root/debootstrap"
rm -f "$root/etc/postgresql-common/createcluster.d/no-main-cluster.conf"

# The data directory and socket directory belong to the postgres user, whom
# the container runs as.
install -d -m 0700 "$root/var/lib/postgresql/data"
install -d -m 2775 "$root/run/postgresql"
chroot "$root" chown -R postgres:postgres /var/lib/postgresql /run/postgresql
install -m 0755 "$here/postgres-image/docker-entrypoint.sh" "$root/usr/local/bin/docker-entrypoint.sh"

log "importing $TAG"
pg_bin="/usr/lib/postgresql/$PG_MAJOR/bin"
tar --numeric-owner -C "$root" --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' -cf - . |
  docker import \
    --change "ENV PATH=$pg_bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    --change "ENV PGDATA=/var/lib/postgresql/data" \
    --change "ENV LANG=C.UTF-8" \
    --change "USER postgres" \
    --change "WORKDIR /var/lib/postgresql" \
    --change 'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]' \
    --change 'CMD ["postgres"]' \
    --change "EXPOSE 5432" \
    --change "LABEL org.opencontainers.image.description=\"PostgreSQL $PG_MAJOR from Debian $SUITE packages, built by scripts/build-postgres-image.sh\"" \
    - "$TAG" >/dev/null
size="$(docker image inspect --format '{{.Size}}' "$TAG")"
log "built $TAG ($((size / 1024 / 1024)) MB) in $((SECONDS - start))s"
