# shellcheck shell=bash
# scripts/lab.d/base.sh — the cached Debian root file systems lab hosts boot from, one per
# release (bookworm = Debian 12, trixie = Debian 13).
#
# Each is built once with debootstrap into a temporary directory and renamed into place, so
# a crash mid-build never leaves a half base behind; a cache that is present is reused as it
# is. Hosts never write to it: each one mounts its provider's release as the lower layer of
# its own overlay. Bump LAB_BASE_VERSION whenever base_customize changes so existing caches
# are rebuilt instead of silently reused.

LAB_BASE_VERSION=1
LAB_RELEASES=(bookworm trixie) # the first is the default
LAB_BASE_PACKAGES=systemd,systemd-sysv,openssh-server,dbus,iproute2,python3,sudo,ca-certificates

# Prints the cache directory of release $1's base image.
base_dir() { printf '%s/%s-v%s\n' "$LAB_CACHE" "$1" "$LAB_BASE_VERSION"; }

# True if $1 is a release the lab can build hosts of.
release_known() {
  local r
  for r in "${LAB_RELEASES[@]}"; do [[ "$r" == "$1" ]] && return 0; done
  return 1
}

# Builds release $1's base image unless the cache has it.
base_ensure() {
  local release="$1" base tmp t0
  base="$(base_dir "$release")"
  [[ -f "$base/.decamp-lab-base" ]] && return 0
  require_tools debootstrap
  [[ -f "/usr/share/debootstrap/scripts/$release" ]] ||
    die "this debootstrap cannot build $release (install a newer debootstrap)"
  mkdir -p "$LAB_CACHE"
  # Leftovers of an interrupted build; we hold the lab lock, so no build is running.
  rm -rf --one-file-system "$LAB_CACHE"/.build-*
  tmp="$(mktemp -d "$LAB_CACHE/.build-$release-XXXXXX")"
  t0="$(now_ms)"
  log "building the $release base image (debootstrap from $LAB_MIRROR; a minute or two, once)"
  if ! debootstrap --variant=minbase --include="$LAB_BASE_PACKAGES" "$release" "$tmp/root" \
    "$LAB_MIRROR" >"$tmp/debootstrap.log" 2>&1; then
    tail -n 20 "$tmp/debootstrap.log" >&2
    die "debootstrap failed; full log in $tmp/debootstrap.log"
  fi
  base_customize "$tmp/root" "$release"
  touch "$tmp/root/.decamp-lab-base"
  mv -T "$tmp/root" "$base"
  rm -rf --one-file-system "$tmp"
  log "$release base image ready in $(($(now_ms) - t0)) ms: $base ($(du -sh "$base" | cut -f1))"
}

base_customize() {
  local root="$1" release="$2"

  # Identity is per host: each host gets its own key, hostname and machine-id in its upper
  # dir. An empty machine-id marks the image as not yet initialised.
  rm -f "$root"/etc/ssh/ssh_host_* "$root/etc/hostname"
  : >"$root/etc/machine-id"
  rm -f "$root/var/lib/dbus/machine-id"
  ln -s /etc/machine-id "$root/var/lib/dbus/machine-id"

  # debootstrap copied the control machine's resolver, which hosts cannot reach anyway.
  printf '# decamp lab hosts have no resolver; apt goes through the HTTP proxy\n' \
    >"$root/etc/resolv.conf"

  # sshd: ed25519 only (RSA key generation is slow and the lab pins ed25519 keys), keys only.
  cat >"$root/etc/ssh/sshd_config.d/decamp-lab.conf" <<'EOF'
# decamp lab: one pinned ed25519 host key, key authentication only
HostKey /etc/ssh/ssh_host_ed25519_key
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UseDNS no
EOF
  # Forwarded locale variables would name locales the minimal image does not have.
  sed -i 's/^AcceptEnv/#AcceptEnv/' "$root/etc/ssh/sshd_config"

  # The journal lives in memory: many hosts writing journals to disk slows everyone down.
  mkdir -p "$root/etc/systemd/journald.conf.d"
  cat >"$root/etc/systemd/journald.conf.d/decamp-lab.conf" <<'EOF'
[Journal]
Storage=volatile
RuntimeMaxUse=16M
EOF

  # Periodic jobs make timings noisy and some cannot work in a container (e2scrub, fstrim).
  local unit
  for unit in apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer \
    e2scrub_reap.service fstrim.timer man-db.timer systemd-pstore.service getty@tty1.service \
    console-getty.service; do
    find "$root/etc/systemd/system" -name "$unit" -type l -delete
    ln -sf /dev/null "$root/etc/systemd/system/$unit"
  done

  # apt reaches Debian only through the lab's filtering proxy on the control machine.
  cat >"$root/etc/apt/sources.list" <<EOF
deb http://deb.debian.org/debian $release main
deb http://deb.debian.org/debian $release-updates main
deb http://security.debian.org/debian-security $release-security main
EOF
  cat >"$root/etc/apt/apt.conf.d/01decamp-lab" <<EOF
// decamp lab: the control machine's tinyproxy forwards to Debian's repositories only
Acquire::http::Proxy "http://$LAB_CONTROL_ADDR:$LAB_PROXY_PORT";
Acquire::Languages "none";
Acquire::Retries "3";
EOF

  # The non-root account playbooks may log in as.
  useradd --root "$root" --create-home --shell /bin/bash decamp
  printf 'decamp ALL=(ALL) NOPASSWD:ALL\n' >"$root/etc/sudoers.d/decamp"
  chmod 0440 "$root/etc/sudoers.d/decamp"

  rm -f "$root"/var/cache/apt/archives/*.deb "$root"/var/cache/apt/*.bin
}
