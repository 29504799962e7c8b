#!/usr/bin/env python3
"""tests/bench/report.py STATE_DIR OUT.md — the Markdown results of tests/bench/run.

Reads STATE_DIR/measurements.tsv (one line per timed run: scenario, tool, hosts, run,
wall seconds, peak RSS KiB, exit code, changed) and writes the tables the README quotes.
"""
import os
import platform
import statistics
import subprocess
import sys
from collections import defaultdict

state, out_path = sys.argv[1], sys.argv[2]
rows = defaultdict(list)  # (scenario, tool, hosts) -> [(seconds, rss_kib, changed)]
with open(os.path.join(state, "measurements.tsv")) as f:
    for line in f:
        p = line.rstrip("\n").split("\t")
        if len(p) < 8:
            continue
        rows[(p[0], p[1], int(p[2]))].append((float(p[4]), int(p[5]), p[7]))


def read(name, default=""):
    try:
        with open(os.path.join(state, name)) as f:
            return f.read().strip()
    except OSError:
        return default


def med(key):
    v = [r[0] for r in rows.get(key, [])]
    return statistics.median(v) if v else None


def cell(key):
    v = [r[0] for r in rows.get(key, [])]
    if not v:
        return "—"
    return f"{fmt(statistics.median(v))} ({fmt(min(v))}–{fmt(max(v))})"


def fmt(s):
    return f"{s:.2f} s" if s >= 1 else f"{s * 1000:.0f} ms"


def ratio(a, b):
    return f"{a / b:.1f}×" if a and b else "—"


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def ram():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    return "?"


def version(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout.strip().splitlines()[0]
    except Exception:
        return "?"


decamp = os.environ.get("DECAMP") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../build-bench/decamp")
if not read("date"):
    import datetime
    date_txt = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%MZ")
else:
    date_txt = read("date")
ansible_txt = read("ansible-version") or version(["ansible-playbook", "--version"])
deb_txt = read("ansible-deb-version") or version(["dpkg-query", "-W", "-f", "${Version}\\n", "ansible"])
runs = max((len(v) for v in rows.values()), default=0)
L = []
L.append("# decamp benchmark results")
L.append("")
L.append(f"Written by `tests/bench/run` on {date_txt}. Machine: {os.cpu_count()} CPUs ({cpu_model()}), "
         f"{ram()} RAM, Linux {platform.release()}. Ansible: {ansible_txt} "
         f"(Debian package `ansible` {deb_txt}). "
         f"Each cell: median of {runs} interleaved runs (min–max). Wall time of the whole command, "
         "start-up included.")
L.append("")

sizes = sorted({k[2] for k in rows if k[0] in ("cold", "converged")})
if sizes:
    L.append("## 20-task playbook on lab hosts (Debian 12 under systemd-nspawn)")
    L.append("")
    L.append("| run | hosts | decamp | Ansible defaults | Ansible tuned | decamp faster than defaults | than tuned |")
    L.append("|---|---:|---:|---:|---:|---:|---:|")
    for scen, label in (("cold", "cold apply"), ("converged", "converged re-apply")):
        for n in sizes:
            d, a, t = (med((scen, x, n)) for x in ("decamp", "ansible-defaults", "ansible-tuned"))
            L.append(f"| {label} | {n} | {cell((scen, 'decamp', n))} | {cell((scen, 'ansible-defaults', n))} | "
                     f"{cell((scen, 'ansible-tuned', n))} | {ratio(a, d)} | {ratio(t, d)} |")
    L.append("")
    L.append("Converged re-apply against the cost of reaching every host once:")
    L.append("")
    L.append("| hosts | decamp re-apply (20 tasks) | `decamp run all -- true` | `ssh HOST true` ×N in parallel | re-apply ÷ decamp run | re-apply ÷ ssh |")
    L.append("|---:|---:|---:|---:|---:|---:|")
    for n in sizes:
        d, rt, st = med(("converged", "decamp", n)), med(("converged", "decamp-run-true", n)), med(("converged", "ssh-true", n))
        L.append(f"| {n} | {cell(('converged', 'decamp', n))} | {cell(('converged', 'decamp-run-true', n))} | "
                 f"{cell(('converged', 'ssh-true', n))} | {ratio(d, rt)} | {ratio(d, st)} |")
    L.append("")

fan = sorted({k[2] for k in rows if k[0].startswith("fanout-")})
if fan:
    n = fan[-1]
    L.append(f"## Fan-out: {n} hosts (sshd in a network namespace each), 5-step playbook")
    L.append("")
    L.append("| run | wall | wall ÷ hosts | decamp peak RSS (max of runs) | RSS ÷ hosts |")
    L.append("|---|---:|---:|---:|---:|")
    for scen, tool, label in (("fanout-cold", "decamp", "cold apply"), ("fanout-converged", "decamp", "converged re-apply"),
                              ("fanout-session", "decamp-run-true", "`decamp run all -- true`"),
                              ("fanout-session", "ssh-true", "`ssh HOST true` ×N in parallel")):
        v = rows.get((scen, tool, n), [])
        if not v:
            continue
        m = med((scen, tool, n))
        rss = max(r[1] for r in v)
        rss_txt = f"{rss / 1024:.1f} MiB" if tool != "ssh-true" else "—"
        per = f"{rss / n:.0f} KiB" if tool != "ssh-true" else "—"
        L.append(f"| {label} | {cell((scen, tool, n))} | {m / n * 1000:.1f} ms | {rss_txt} | {per} |")
    L.append("")

# Where a converged run spends its time on a host (tests/bench/run: host_profile).
prof = {tool: v[0][0] for (scen, tool, n), v in rows.items() if scen == "profile" and v}
if "batch" in prof:
    ms = lambda k: f"{prof[k] * 1000:.1f} ms" if k in prof else "—"
    trips = int(prof.get("round-trips", 0))
    L.append("## Host side of one converged run (first host, measured on the host)")
    L.append("")
    L.append(f"decamp sent the 20 tasks to the host in {trips} round trip(s). Running that very script "
             "again on the host with /bin/sh, beside the tools its probes start (each figure includes "
             "starting a shell, `sh -c`):")
    L.append("")
    L.append("| the whole 20-task script | `sh -c :` | `$(stat …)` | `$(sha256sum …)` | `perl -e 1` | `systemctl show` |")
    L.append("|---:|---:|---:|---:|---:|---:|")
    L.append(f"| {ms('batch')} | {ms('sh')} | {ms('stat')} | {ms('sha256sum')} | {ms('perl')} | {ms('systemctl-show')} |")
    L.append("")
    L.append("In the lab every host shares this machine's CPUs, so the hosts' script times add up: "
             "N hosts cost about N × that figure ÷ CPUs on top of connecting; on separate machines "
             "they run in parallel.")
    L.append("")

# Targets.
T = []
for n in sizes:
    d, a, t = (med(("cold", x, n)) for x in ("decamp", "ansible-defaults", "ansible-tuned"))
    if d and a:
        T.append((f"cold apply, {n} hosts: ≥ 20× faster than Ansible defaults", f"{a / d:.1f}×", a / d >= 20))
    if d and t:
        T.append((f"cold apply, {n} hosts: ≥ 5× faster than Ansible tuned", f"{t / d:.1f}×", t / d >= 5))
for n in sizes:
    d, rt, st = med(("converged", "decamp", n)), med(("converged", "decamp-run-true", n)), med(("converged", "ssh-true", n))
    if d and st:
        T.append((f"converged re-apply, {n} hosts: within 2× of one ssh session + command per host (plain ssh)",
                  f"{d / st:.1f}×", d / st <= 2))
    if d and rt:
        T.append((f"converged re-apply, {n} hosts: within 2× of `decamp run all -- true`", f"{d / rt:.1f}×", d / rt <= 2))
if fan:
    v = rows.get(("fanout-cold", "decamp", fan[-1]), []) + rows.get(("fanout-converged", "decamp", fan[-1]), [])
    if v:
        rss = max(r[1] for r in v) / 1024
        T.append((f"{fan[-1]} hosts: orchestrator peak RSS < 200 MiB", f"{rss:.1f} MiB", rss < 200))
if T:
    L.append("## Targets")
    L.append("")
    L.append("| target | measured | |")
    L.append("|---|---:|---|")
    for what, got, ok in T:
        L.append(f"| {what} | {got} | {'met' if ok else '**missed**'} |")
    L.append("")

L.append("How: `sudo tests/bench/run` (see its header). Cold runs start from reset hosts "
         "(units stopped and removed, /opt/decamp-bench deleted; untimed). Every Ansible run starts "
         "without ssh masters (fresh ControlPath dir). After every run a digest of each host's managed "
         "state must match the first run's, and converged runs must report 0 changes. "
         "Ansible defaults: forks 5, no pipelining, ControlPersist 60 s; tuned: pipelining, "
         "ControlPersist, forks = hosts, no compression, interpreter discovery off.")
L.append("")
with open(out_path, "w") as f:
    f.write("\n".join(L))
