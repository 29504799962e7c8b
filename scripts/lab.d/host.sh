# shellcheck shell=bash
# scripts/lab.d/host.sh — one lab host: overlay root, identity, cgroup, systemd-nspawn boot,
# readiness, and stopping it again.
#
# Layout of $LAB_HOSTS_ROOT/<name>: upper/ and work/ (the host's own disk, kept across
# stop/start), merged/ (the overlay the container boots from).

# The cgroup hierarchies nspawn's payload must be placed in. The control machine has no
# systemd to create a scope, so we make one dir per host ourselves; sharing one cgroup
# makes the hosts' units fail at boot.
cgroup_roots() {
  if [[ -f /sys/fs/cgroup/cgroup.controllers ]]; then
    printf '%s\n' /sys/fs/cgroup # unified (v2 only)
  else
    [[ -d /sys/fs/cgroup/systemd ]] && printf '%s\n' /sys/fs/cgroup/systemd
    [[ -f /sys/fs/cgroup/unified/cgroup.controllers ]] && printf '%s\n' /sys/fs/cgroup/unified
  fi
  return 0
}

# Kills every process left in a lab cgroup (all were started by the lab: they descend from
# an nspawn we launched), then removes the cgroup dirs bottom-up.
cgroup_clean() {
  local sub="$1" root dir pid i
  for root in $(cgroup_roots); do
    dir="$root/$sub"
    [[ -d "$dir" ]] || continue
    if [[ -f "$dir/cgroup.kill" ]]; then
      echo 1 >"$dir/cgroup.kill" 2>/dev/null || true
    fi
    for ((i = 0; i < 50; i++)); do
      # shellcheck disable=SC2046
      pids="$(find "$dir" -name cgroup.procs -exec cat {} + 2>/dev/null | tr '\n' ' ')"
      [[ -z "${pids// /}" ]] && break
      # shellcheck disable=SC2086
      kill -KILL $pids 2>/dev/null || true
      sleep 0.05
    done
    find "$dir" -depth -type d -exec rmdir {} + 2>/dev/null || true
    [[ ! -d "$dir" ]] || warn "could not remove cgroup $dir"
  done
}

# host_mount name provider — the host's disk over its provider's release's base image.
host_mount() {
  local name="$1" d base
  d="$(host_dir "$name")"
  mountpoint -q "$d/merged" && return 0
  base="$(base_dir "$(provider_release "$2")")"
  mkdir -p "$d/upper" "$d/work" "$d/merged"
  mount -t overlay "decamp-lab-$name" \
    -o "lowerdir=$base,upperdir=$d/upper,workdir=$d/work" "$d/merged"
}

host_umount() {
  local m i
  m="$(host_dir "$1")/merged"
  for ((i = 0; i < 20; i++)); do
    mountpoint -q "$m" || return 0
    umount "$m" 2>/dev/null || sleep 0.1
  done
  warn "$m still busy; detaching it lazily"
  umount -l "$m"
}

# Identity (machine-id, host key) is made once per host disk; the rest is rewritten on every
# start so a regenerated client key or a changed host list reaches the hosts.
host_personalize() {
  local name="$1" addr="$2" m uid
  m="$(host_dir "$name")/merged"
  if [[ ! -s "$m/etc/machine-id" ]]; then
    tr -d '-' </proc/sys/kernel/random/uuid >"$m/etc/machine-id"
  fi
  if [[ ! -f "$m/etc/ssh/ssh_host_ed25519_key" ]]; then
    ssh-keygen -q -t ed25519 -N '' -C "root@$name" -f "$m/etc/ssh/ssh_host_ed25519_key"
  fi
  printf '%s\n' "$name" >"$m/etc/hostname"
  {
    printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n'
    printf '%s\tcontrol\n' "$LAB_CONTROL_ADDR"
    awk '{ printf "%s\t%s\n", $6, $1 }' "$LAB_STATE/hosts"
  } >"$m/etc/hosts"
  install -d -m 700 "$m/root/.ssh"
  install -m 600 "$LAB_DIR/id_ed25519.pub" "$m/root/.ssh/authorized_keys"
  uid="$(stat -c %u "$m/home/decamp")"
  install -d -m 700 -o "$uid" -g "$uid" "$m/home/decamp/.ssh"
  install -m 600 -o "$uid" -g "$uid" "$LAB_DIR/id_ed25519.pub" \
    "$m/home/decamp/.ssh/authorized_keys"
}

host_running() { pidfile_alive "$(host_pidfile "$1")" >/dev/null; }

# host_start name provider p i role address veth — boots the host unless it is running.
host_start() {
  local name="$1" addr="$6" veth="$7" ns root cgs=()
  host_running "$name" && return 0
  ns="$(host_netns "$name")"
  host_net_up "$name" "$addr" "$veth"
  host_mount "$name" "$2"
  host_personalize "$name" "$addr"
  # A crashed earlier run may have left processes in the cgroup; they are ours, clear them.
  cgroup_clean "$LAB_CGROUP/$name"
  for root in $(cgroup_roots); do
    mkdir -p "$root/$LAB_CGROUP/$name"
    cgs+=("$root/$LAB_CGROUP/$name")
  done
  LAB_SPAWN_CGROUPS="${cgs[*]}" spawn_detached "$(host_pidfile "$name")" \
    "$LAB_DIR/logs/$name.log" \
    systemd-nspawn --boot --register=no --keep-unit --machine="$name" \
    --directory="$(host_dir "$name")/merged" --network-namespace-path="/run/netns/$ns" \
    --console=passive --resolv-conf=off --timezone=off --link-journal=no \
    --capability=CAP_NET_ADMIN
  # CAP_NET_ADMIN: like a rented machine, a host manages its own firewall (nftables in the
  # base playbook). It only reaches the host's own network namespace.
}

# Waits until sshd answers with the pinned key and systemd reports `running`. Prints the
# failed units if the host comes up degraded.
host_wait_ready() {
  local name="$1" addr="$6" deadline state opts
  mapfile -t opts < <(ssh_opts)
  deadline=$((SECONDS + LAB_BOOT_TIMEOUT))
  until timeout 1 bash -c ": </dev/tcp/$addr/22" 2>/dev/null; do
    host_running "$name" || {
      tail -n 15 "$LAB_DIR/logs/$name.log" >&2
      log "$name: systemd-nspawn exited during boot (log: $LAB_DIR/logs/$name.log)"
      return 1
    }
    ((SECONDS < deadline)) || {
      log "$name: sshd not listening on $addr:22 after ${LAB_BOOT_TIMEOUT}s"
      return 1
    }
    sleep 0.1
  done
  while :; do
    state="$(timeout $((deadline - SECONDS > 1 ? deadline - SECONDS : 1)) \
      ssh "${opts[@]}" "root@$addr" systemctl is-system-running --wait 2>&1)" || true
    case "$state" in
    running) return 0 ;;
    degraded)
      log "$name: systemd is degraded; failed units:"
      ssh "${opts[@]}" "root@$addr" systemctl --failed --no-legend --plain >&2 || true
      return 1
      ;;
    esac
    ((SECONDS < deadline)) || {
      log "$name: not ready after ${LAB_BOOT_TIMEOUT}s (last answer: ${state:-none})"
      return 1
    }
    sleep 0.2
  done
}

# Powers the host off: SIGTERM to nspawn makes the container shut down cleanly. The disk
# (upper dir) stays for a later start.
host_stop() {
  local name="$1"
  pidfile_stop "$(host_pidfile "$name")" 15
  cgroup_clean "$LAB_CGROUP/$name"
  host_umount "$name"
  host_net_down "$name"
  # A systemd-nspawn that was killed (not stopped) leaves its mount-propagation dir behind.
  rmdir "/run/systemd/nspawn/propagate/$name" 2>/dev/null || true
}
