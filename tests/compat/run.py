#!/usr/bin/env python3
"""Compat harness: real-world Ansible content (../shared/ansible-corpus) through decamp.

Every playbook (a YAML file whose plays have `hosts:` or `import_playbook:`) and every role
(a directory with tasks/main.yml, used by path from a one-play wrapper playbook) goes through
`decamp validate` and `decamp plan --offline` with a throw-away one-host inventory whose host
has every role the plays' `hosts:` name. Reported: the share of entry points that load and
plan, the share of tasks that load, and the most frequent reasons for failure.

A task loads when no error of its entry point falls inside its lines. When an entry point
fails only with errors outside every task (structural ones: a role that is not installed, an
unsupported keyword of a play), its tasks are loaded once more on their own: the entry runs
again from a mirror of the corpus in the temp dir (symlinks, except the files holding those
errors, copied with each offending node blanked line for line so that positions still match),
and a task counts as loaded when neither run reports an error inside it (a blanked role takes
its handlers along, so the second run's "notify names handler" errors are not counted, as
decamp does not report them beside a missing role). Where a node cannot
be blanked, or the second run fails outside its tasks again, none of its tasks count.

  tests/compat/run.py [--decamp build/decamp] [--corpus DIR] [--list] [--json]
                      [--min-entry PCT] [--min-tasks PCT]

Exits 0 when the corpus is absent (with a message), 1 when a share is below the --min-*
floor, 3 when decamp crashed (a signal or an exit code other than 0 or 2) on any input.
Nothing of the corpus is written anywhere: wrappers and inventories live in a temp dir.
"""
import argparse
import collections
import json
import os
import re
import subprocess
import sys
import tempfile

try:
    import yaml
except ImportError:  # the task share needs a YAML reader; the rest does not
    yaml = None

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SKIP_DIRS = {"vars", "defaults", "group_vars", "host_vars", "meta", "templates", "files", "molecule"}


def load_yaml(path):
    if yaml is None:
        return None
    try:
        with open(path, encoding="utf-8") as f:
            return yaml.compose(f)
    except Exception:  # noqa: BLE001 - a file PyYAML cannot read is simply not counted
        return None


def node_get(node, key):
    if not isinstance(node, yaml.MappingNode):
        return None
    for k, v in node.value:
        if isinstance(k, yaml.ScalarNode) and k.value == key:
            return v
    return None


def is_playbook(node):
    if not isinstance(node, yaml.SequenceNode) or not node.value:
        return False
    return all(isinstance(p, yaml.MappingNode) and (node_get(p, "hosts") or node_get(p, "import_playbook")
                                                    or node_get(p, "ansible.builtin.import_playbook"))
               for p in node.value)


def task_ranges(seq):
    """(first line, last line) of every task of a task list, blocks' own tasks included."""
    out = []
    if not isinstance(seq, yaml.SequenceNode):
        return out
    for t in seq.value:
        if not isinstance(t, yaml.MappingNode):
            out.append((t.start_mark.line + 1, t.end_mark.line + 1))
            continue
        nested = [node_get(t, k) for k in ("block", "rescue", "always")]
        if any(n is not None for n in nested):
            for n in nested:
                out.extend(task_ranges(n))
        else:
            out.append((t.start_mark.line + 1, max(t.start_mark.line + 1, t.end_mark.line)))
    return out


def hosts_terms(node):
    terms = set()
    if not isinstance(node, yaml.SequenceNode):
        return terms
    for p in node.value:
        h = node_get(p, "hosts")
        values = []
        if isinstance(h, yaml.ScalarNode):
            values = re.split(r"[,:]", h.value)
        elif isinstance(h, yaml.SequenceNode):
            values = [x.value for x in h.value if isinstance(x, yaml.ScalarNode)]
        for v in values:
            v = v.strip().lstrip("!&")
            if v and v not in ("all", "*") and "{{" not in v and re.match(r"^[A-Za-z0-9_.-]+$", v):
                terms.add(v)
    return terms


class Corpus:
    def __init__(self, root):
        self.root = root
        self.playbooks = []       # paths
        self.roles = []           # role dirs
        self.task_files = {}      # path -> [(first, last)]
        self.terms = {}           # playbook -> host pattern terms
        for d, dirs, files in os.walk(root):
            dirs[:] = sorted(x for x in dirs if not x.startswith("."))
            if os.path.isfile(os.path.join(d, "tasks", "main.yml")) or os.path.isfile(os.path.join(d, "tasks", "main.yaml")):
                self.roles.append(d)
            for f in sorted(files):
                if not f.endswith((".yml", ".yaml")):
                    continue
                p = os.path.join(d, f)
                rel = os.path.relpath(p, root).split(os.sep)
                if any(part in SKIP_DIRS for part in rel[:-1]) or f.startswith("requirements"):
                    continue
                node = load_yaml(p)
                if yaml is None:
                    if re.search(r"^\s*-?\s*(hosts|import_playbook):", open(p, encoding="utf-8", errors="replace").read(), re.M):
                        self.playbooks.append(p)
                    continue
                if node is None:
                    continue
                if is_playbook(node):
                    self.playbooks.append(p)
                    self.terms[p] = hosts_terms(node)
                    ranges = []
                    for play in node.value:
                        for key in ("pre_tasks", "tasks", "post_tasks", "handlers"):
                            ranges.extend(task_ranges(node_get(play, key)))
                    self.task_files[p] = ranges
                elif isinstance(node, yaml.SequenceNode) and ("tasks" in rel[:-1] or "handlers" in rel[:-1]):
                    self.task_files[p] = task_ranges(node)

    def owner(self, path):
        """The entry point a task file belongs to: its role, else its playbook directory."""
        for r in sorted(self.roles, key=len, reverse=True):
            if path.startswith(r + os.sep):
                return r
        return None


def run(cmd, cwd):
    try:
        p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=120)
        return p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired:
        return -999, "", "timeout"


DIAG = re.compile(r"^\s*(?:decamp: error: )?(/[^:\n]+):(\d+):(\d+): (.*)$", re.M)


def reason_of(message):
    """A short class of a diagnostic, for the top reasons."""
    m = message
    m = re.sub(r'"[^"]*"', '"…"', m)
    m = re.sub(r"\d+", "N", m)
    return m[:110]


def key_path_node(root, key_path):
    """The node a diagnostic's key path names inside its own file (the part after the last
    import_playbook), with its parent; (None, None) when the path does not lead to a node."""
    parts = key_path.split("/")
    if "import_playbook" in parts:
        parts = parts[len(parts) - parts[::-1].index("import_playbook"):]
    node, parent, key = root, None, None
    for part in parts:
        parent = node
        if isinstance(node, yaml.SequenceNode) and part.isdigit() and int(part) < len(node.value):
            key, node = None, node.value[int(part)]
        elif isinstance(node, yaml.MappingNode):
            pair = next(((k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == part), None)
            if pair is None:
                return None, None
            key, node = pair
        else:
            return None, None
    return (key or node), parent


def blank(lines, root, key_path):
    """Blanks, in place, the lines of the node `key_path` names (a list item or a key with its
    value); False when the node does not own whole lines (flow style) or cannot be found."""
    first, parent = key_path_node(root, key_path)
    if first is None or parent is None:
        return False
    if isinstance(parent, yaml.MappingNode):
        value = next(v for k, v in parent.value if k is first)
        end = value.end_mark
        prefix_ok = lines[first.start_mark.line][:first.start_mark.column].strip() == ""
    else:
        end = first.end_mark
        prefix_ok = re.match(r"^\s*-\s*$", lines[first.start_mark.line][:first.start_mark.column]) is not None
    last = end.line if end.column > 0 else end.line - 1
    if not prefix_ok or last < first.start_mark.line or last >= len(lines):
        return False
    rest = lines[last][end.column:] if end.column > 0 else ""
    if rest.strip() and not rest.strip().startswith("#"):
        return False
    for i in range(first.start_mark.line, last + 1):
        lines[i] = "\n"
    return True


def mirror(corpus, mroot, entry, edits):
    """A copy of the corpus under `mroot` made of symlinks, except the directories leading to
    `entry` and to the edited files (real) and the edited files (written from `edits`)."""
    real = set()
    for path in [entry] + list(edits):
        d = os.path.dirname(path) if path in edits or os.path.isfile(path) else path
        while True:
            real.add(d)
            if d == corpus or not d.startswith(corpus + os.sep):
                break
            d = os.path.dirname(d)
    for d in sorted(real):
        target = os.path.join(mroot, os.path.relpath(d, corpus))
        os.makedirs(target, exist_ok=True)
        for child in os.listdir(d):
            src = os.path.join(d, child)
            if src in real:
                continue
            if src in edits:
                with open(os.path.join(target, child), "w", encoding="utf-8") as f:
                    f.write(edits[src])
            else:
                os.symlink(src, os.path.join(target, child))
    return os.path.join(mroot, os.path.relpath(entry, corpus))


def in_tasks(task_files, diag):
    return diag[0] in task_files and any(a <= diag[1] <= b for (a, b) in task_files[diag[0]])


def recheck(decamp, tmp, corpus, task_files, name, entry, res, terms):
    """The entry again from a mirror with its structural errors blanked (see the module's
    docstring); the diagnostics of that run, or None when it cannot say more."""
    paths = {}  # file -> key paths to blank, all resolved against the file as written
    for (path, line, msg) in res["diags"]:
        if in_tasks(task_files, (path, line, msg)):
            continue
        if not path.startswith(corpus + os.sep) or ": " not in msg:
            return None
        paths.setdefault(path, []).append(msg.split(": ", 1)[0])
    edits = {}
    for path, key_paths in paths.items():
        with open(path, encoding="utf-8") as f:
            text = f.read()
        lines, root = text.splitlines(keepends=True), yaml.compose(text)
        if root is None or not all(blank(lines, root, k) for k in key_paths):
            return None
        edits[path] = "".join(lines)
    if not edits:
        return None
    mroot = os.path.join(tmp, name + ".mirror")
    moved = mirror(corpus, mroot, entry, edits)
    if os.path.isdir(entry):  # a role: a wrapper naming its mirrored directory
        playbook = os.path.join(tmp, name + ".mirror.yml")
        with open(playbook, "w") as f:
            f.write("- hosts: all\n  roles:\n    - role: %s\n" % json.dumps(moved))
    else:
        playbook = moved
    again = check_entry(decamp, tmp, name + ".mirror", playbook, terms)
    back = {os.path.realpath(os.path.join(mroot, os.path.relpath(p, corpus))): p for p in edits}
    diags = [(back.get(p, p), line, msg) for (p, line, msg) in again["diags"]]
    if not again["ok"] and not any(in_tasks(task_files, d) for d in diags):
        return None
    # A blanked role took its handlers along: the original run did not check notify there.
    if any("/roles/" in k for keys in paths.values() for k in keys):
        diags = [d for d in diags if "notify names handler" not in d[2]]
    return diags


def check_entry(decamp, tmp, name, playbook, terms):
    inv = os.path.join(tmp, name + ".inv.yml")
    empty = os.path.join(tmp, "empty.yml")
    with open(empty, "w") as f:
        f.write("- hosts: all\n  tasks: []\n")
    roles = sorted(terms) or ["compat"]
    with open(inv, "w") as f:
        f.write("project: compat\nssh: { user: root }\nactive: lab\nproviders:\n  lab:\n    kind: static\n    hosts:\n")
        f.write("      h1: { address: 192.0.2.10, roles: [%s] }\n" % ", ".join(json.dumps(r) for r in roles))
        f.write("roles:\n")
        for r in roles:
            f.write("  %s: { playbooks: [%s] }\n" % (json.dumps(r), json.dumps(empty)))
    rc, out, err = run([decamp, "validate", "-i", inv, playbook], tmp)
    stage = "validate"
    if rc == 0:
        rc, out, err = run([decamp, "plan", "--offline", "-i", inv, playbook], tmp)
        stage = "plan"
    diags = [(os.path.realpath(m.group(1)), int(m.group(2)), m.group(4)) for m in DIAG.finditer(err)]
    crashed = rc not in (0, 2) and (rc < 0 or rc > 8 or "Sanitizer" in err)
    first = (err.strip().splitlines() or ["(no message)"])
    return {"ok": rc == 0, "rc": rc, "stage": stage, "diags": diags, "crashed": crashed,
            "message": diags[0][2] if diags else first[-1][:200]}


def default_corpus():
    """../shared/ansible-corpus beside the checkout; from a git worktree, beside the main one."""
    here = os.path.join(ROOT, "..", "shared", "ansible-corpus")
    if os.path.isdir(here):
        return here
    try:
        common = subprocess.run(["git", "rev-parse", "--path-format=absolute", "--git-common-dir"], cwd=ROOT,
                                capture_output=True, text=True, timeout=10).stdout.strip()
        if common:
            main_corpus = os.path.join(os.path.dirname(common), "..", "shared", "ansible-corpus")
            if os.path.isdir(main_corpus):
                return main_corpus
    except (OSError, subprocess.SubprocessError):
        pass
    return here


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--decamp", default=os.path.join(ROOT, "build", "decamp"))
    ap.add_argument("--corpus", default=default_corpus())
    ap.add_argument("--list", action="store_true", help="list every failure with its reason")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--min-entry", type=float, default=0.0)
    ap.add_argument("--min-tasks", type=float, default=0.0)
    a = ap.parse_args()
    a.decamp = os.path.abspath(a.decamp)  # decamp runs in a temp dir
    corpus_dir = os.path.realpath(a.corpus)
    if not os.path.isdir(corpus_dir):
        print("compat: skipped: no corpus at %s (../shared/ansible-corpus)" % a.corpus)
        return 0
    if not os.access(a.decamp, os.X_OK):
        print("compat: no decamp binary at %s (build first)" % a.decamp, file=sys.stderr)
        return 2
    c = Corpus(corpus_dir)
    results = {}
    with tempfile.TemporaryDirectory(prefix="decamp-compat-") as tmp:
        # The corpus's roles, "installed" under their Galaxy names (as ansible-galaxy would,
        # from the playbooks' requirements.yml): geerlingguy.nginx → ansible-role-nginx.
        roles_path = os.path.join(tmp, "roles")
        os.mkdir(roles_path)
        for r in c.roles:
            base = os.path.basename(r)
            if base.startswith("ansible-role-"):
                os.symlink(r, os.path.join(roles_path, "geerlingguy." + base[len("ansible-role-"):]))
        os.environ["ANSIBLE_ROLES_PATH"] = roles_path
        for i, p in enumerate(c.playbooks):
            results[p] = check_entry(a.decamp, tmp, "pb%d" % i, p, c.terms.get(p, set()))
        for i, r in enumerate(c.roles):
            wrapper = os.path.join(tmp, "role%d.yml" % i)
            with open(wrapper, "w") as f:
                f.write("- hosts: all\n  roles:\n    - role: %s\n" % json.dumps(r))
            results[r] = check_entry(a.decamp, tmp, "role%d" % i, wrapper, set())
        if yaml is not None:
            for i, (entry, res) in enumerate(sorted(results.items())):
                if not res["ok"] and not any(in_tasks(c.task_files, d) for d in res["diags"]):
                    res["again"] = recheck(a.decamp, tmp, corpus_dir, c.task_files, "again%d" % i, entry, res,
                                           c.terms.get(entry, set()))

    # Tasks: each file belongs to its role, else to every playbook of its directory tree
    # that loaded it (counted once, against the playbook closest to it).
    total = loaded = 0
    per_reason = collections.Counter()
    for path, ranges in c.task_files.items():
        owner = c.owner(path)
        if owner is None:
            cands = [p for p in c.playbooks if os.path.dirname(path).startswith(os.path.dirname(p))]
            owner = path if path in results else (max(cands, key=len) if cands else None)
        res = results.get(owner)
        for (lo, hi) in ranges:
            total += 1
            if res is None:
                continue
            again = res.get("again")
            diags = res["diags"] + (again or [])
            bad = [d for d in diags if d[0] == path and lo <= d[1] <= hi]
            structural = not res["ok"] and again is None and not any(in_tasks(c.task_files, d) for d in diags)
            if not bad and not structural:
                loaded += 1
    failures = {k: v for k, v in results.items() if not v["ok"]}
    for v in failures.values():
        for d in v["diags"] or [(None, 0, v["message"])]:
            per_reason[reason_of(d[2])] += 1
    entries = len(results)
    ok = entries - len(failures)
    crashes = [k for k, v in results.items() if v["crashed"]]
    share_e = 100.0 * ok / entries if entries else 0.0
    share_t = 100.0 * loaded / total if total else 0.0
    if a.json:
        print(json.dumps({"entries": entries, "entries_ok": ok, "tasks": total, "tasks_ok": loaded,
                          "crashes": crashes,
                          "failures": {os.path.relpath(k, corpus_dir): v["message"] for k, v in failures.items()},
                          "reasons": per_reason.most_common(15)}, indent=1))
    else:
        print("compat: %d playbooks, %d roles (%s)" % (len(c.playbooks), len(c.roles), corpus_dir))
        print("compat: load and plan: %d/%d = %.1f%%" % (ok, entries, share_e))
        if yaml is None:
            print("compat: tasks: not counted (python3-yaml missing)")
        else:
            print("compat: tasks that load: %d/%d = %.1f%%" % (loaded, total, share_t))
        print("compat: top reasons (diagnostics across failing entries):")
        for reason, n in per_reason.most_common(12):
            print("  %4d  %s" % (n, reason))
        if a.list:
            print("compat: every failure:")
            for k, v in sorted(failures.items()):
                print("  %s [%s]: %s" % (os.path.relpath(k, corpus_dir), v["stage"], v["message"]))
    if crashes:
        print("compat: CRASH on: " + ", ".join(crashes), file=sys.stderr)
        return 3
    if share_e < a.min_entry or (yaml is not None and share_t < a.min_tasks):
        print("compat: below the floor (entries %.1f%% < %.1f%% or tasks %.1f%% < %.1f%%)"
              % (share_e, a.min_entry, share_t, a.min_tasks), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # piped into head
        sys.exit(0)
