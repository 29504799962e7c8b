# shellcheck shell=bash
# scripts/lab.d/inventory.sh — the files the lab hands to decamp: client key, known_hosts,
# secrets and .lab/inventory.yml. The inventory follows the schema the C++ validator
# accepts; unknown keys are errors there, so add nothing here without changing both.

client_key_ensure() {
  if [[ ! -f "$LAB_DIR/id_ed25519" || ! -f "$LAB_DIR/id_ed25519.pub" ]]; then
    rm -f "$LAB_DIR/id_ed25519" "$LAB_DIR/id_ed25519.pub"
    ssh-keygen -q -t ed25519 -N '' -C "decamp-lab" -f "$LAB_DIR/id_ed25519"
  fi
  chmod 600 "$LAB_DIR/id_ed25519"
}

# The backup repository's password (lab only; real inventories use their own secret store).
backup_key_ensure() {
  if [[ ! -s "$LAB_DIR/backup_key" ]]; then
    (umask 077 && head -c 32 /dev/urandom | base64 | tr -d '/+=' >"$LAB_DIR/backup_key")
  fi
  chmod 600 "$LAB_DIR/backup_key"
}

db_password_ensure() {
  if [[ ! -s "$LAB_DIR/db_password" ]]; then
    (umask 077 && head -c 24 /dev/urandom | base64 | tr -d '/+=' >"$LAB_DIR/db_password")
  fi
  chmod 600 "$LAB_DIR/db_password"
}

# "198.18.1.11 ssh-ed25519 AAAA..." per host, from the keys generated before boot.
known_hosts_write() {
  local name provider p i role addr veth pub
  : >"$LAB_DIR/known_hosts.tmp"
  while read -r name provider p i role addr veth; do
    pub="$(host_dir "$name")/merged/etc/ssh/ssh_host_ed25519_key.pub"
    [[ -f "$pub" ]] || pub="$(host_dir "$name")/upper/etc/ssh/ssh_host_ed25519_key.pub"
    [[ -f "$pub" ]] || continue # never started (its provider is stopped): no key yet
    awk -v a="$addr" '{ print a, $1, $2 }' "$pub" >>"$LAB_DIR/known_hosts.tmp"
  done <"$LAB_STATE/hosts"
  mv -f "$LAB_DIR/known_hosts.tmp" "$LAB_DIR/known_hosts"
}

# Prints the playbook list of a role as a YAML flow sequence.
role_playbooks() {
  local base="$1"
  case "$2" in
  web) printf '[%s/base.yml, %s/web.yml, %s/app.yml]' "$base" "$base" "$base" ;;
  db) printf '[%s/base.yml, %s/postgres.yml]' "$base" "$base" ;;
  *) printf '[%s/base.yml]' "$base" ;;
  esac
}

has_role() { [[ ",$ROLES," == *",$1,"* ]]; }

inventory_write() {
  local out="$LAB_DIR/inventory.yml" pb width=0 name provider p i role addr veth r cur=""
  # Paths in the inventory are relative to its directory; outside <repo>/.lab a relative
  # path to the repo's playbooks would be fragile, so it gets absolute ones.
  if [[ "$(realpath -m "$LAB_DIR")" == "$(realpath -m "$REPO_ROOT/.lab")" ]]; then
    pb=../playbooks
  else
    pb="$REPO_ROOT/playbooks"
  fi
  while read -r name _; do
    ((${#name} > width)) && width=${#name}
  done <"$LAB_STATE/hosts"
  {
    printf '# written by scripts/lab — do not edit\n'
    printf 'project: forum\n'
    printf 'ssh:\n  user: root\n'
    printf '  key: id_ed25519            # paths are relative to this file'"'"'s directory\n'
    printf '  known_hosts: known_hosts\n'
    printf 'providers:\n'
    while read -r name provider p i role addr veth; do
      if [[ "$provider" != "$cur" ]]; then
        printf '  %s:\n    kind: static\n    hosts:\n' "$provider"
        cur="$provider"
      fi
      printf '      %-*s { address: %s, roles: [%s] }\n' $((width + 1)) "$name:" "$addr" "$role"
    done <"$LAB_STATE/hosts"
    printf 'active: %s\n' "${PROVIDERS%%,*}"
    printf 'roles:\n'
    width=0
    for r in ${ROLES//,/ }; do
      ((${#r} > width)) && width=${#r}
    done
    for r in ${ROLES//,/ }; do
      printf '  %-*s { playbooks: %s }\n' $((width + 1)) "$r:" "$(role_playbooks "$pb" "$r")"
    done
    if has_role db || has_role web; then
      printf 'data:\n'
      has_role db && printf '  - { kind: postgres, role: db, database: forum }\n'
      has_role web && printf '  - { kind: files, role: web, path: /srv/forum/uploads }\n'
    else
      printf 'data: []\n'
    fi
    if has_role web; then
      printf 'health:\n'
      printf '  - { role: web, url: "http://{{ host.address }}/healthz", expect: 200, host_header: www.example.test }\n'
    else
      printf 'health: []\n'
    fi
    printf 'dns:\n  kind: powerdns\n  api: http://127.0.0.1:%s\n' "$LAB_API_PORT"
    printf '  api_key: "${file:pdns_api_key}"\n'
    printf '  server: 127.0.0.1:%s\n  zone: example.test.\n' "$LAB_DNS_PORT"
    if has_role web; then
      printf '  records:\n    - { name: www.example.test., role: web, ttl: 300 }\n'
    else
      printf '  records: []\n'
    fi
    if has_role web; then
      printf 'app: { role: web, services: [forum-app] }\n'
    fi
    # A provider named `backup` holds the backup repository (its first host; off the
    # production provider, reached from the orchestrator only).
    local backup_host=""
    while read -r name provider _; do
      if [[ "$provider" == backup ]]; then backup_host="$name"; break; fi
    done <"$LAB_STATE/hosts"
    if [[ -n "$backup_host" ]]; then
      backup_key_ensure
      printf 'backup:\n  host: %s\n  path: /srv/decamp-backup/forum\n  secret: backup_key\n' "$backup_host"
      printf '  keep: { daily: 7, weekly: 4 }\n'
      printf 'objectives: { rto: 2h, rpo: 24h }\n'
    fi
    printf 'vars:\n  private_net: 198.18.0.0/16\n  app_port: 8080\n'
    printf 'secrets:\n  db_password: "${file:db_password}"\n'
    if [[ -n "$backup_host" ]]; then
      printf '  backup_key: "${file:backup_key}"\n'
    fi
  } >"$out.tmp"
  mv -f "$out.tmp" "$out"
}
