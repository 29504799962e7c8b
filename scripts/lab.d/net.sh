# shellcheck shell=bash
# scripts/lab.d/net.sh — the lab network: bridge decamp0 on the control machine, and one
# network namespace per host joined to it by a veth pair.
#
# Hosts get a single link route for 198.18.0.0/16 and no default route: they reach each
# other and the control machine's bridge address (tinyproxy), nothing else.

bridge_up() {
  if ! ip link show dev "$LAB_BRIDGE" >/dev/null 2>&1; then
    # STP off and no forward delay: ports must forward the moment a host boots.
    ip link add "$LAB_BRIDGE" type bridge stp_state 0 forward_delay 0
  fi
  if ! ip -4 addr show dev "$LAB_BRIDGE" | grep -q " $LAB_CONTROL_ADDR/"; then
    ip addr add "$LAB_CONTROL_ADDR/$LAB_PREFIX_LEN" dev "$LAB_BRIDGE"
  fi
  ip link set "$LAB_BRIDGE" up
}

bridge_down() {
  if ip link show dev "$LAB_BRIDGE" >/dev/null 2>&1; then
    ip link del "$LAB_BRIDGE"
  fi
}

# host_net_up name address veth
host_net_up() {
  local name="$1" addr="$2" veth="$3" ns
  ns="$(host_netns "$name")"
  # A namespace without its veth is a leftover of a crash between two steps: start over.
  if [[ -e "/run/netns/$ns" ]] && ! ip link show dev "$veth" >/dev/null 2>&1; then
    ip netns del "$ns"
  fi
  [[ -e "/run/netns/$ns" ]] && return 0
  ip netns add "$ns"
  # Created with its peer already inside the namespace, so there is no half-moved state.
  ip link add "$veth" type veth peer name eth0 netns "$ns"
  ip link set "$veth" master "$LAB_BRIDGE" up
  ip -n "$ns" link set lo up
  ip -n "$ns" addr add "$addr/$LAB_PREFIX_LEN" dev eth0
  ip -n "$ns" link set eth0 up
}

# Deleting the namespace destroys its veth end, which destroys the bridge end too; the
# address then stops answering, as a powered-off machine's would.
host_net_down() {
  local ns
  ns="$(host_netns "$1")"
  if [[ -e "/run/netns/$ns" ]]; then
    ip netns del "$ns"
  fi
}
