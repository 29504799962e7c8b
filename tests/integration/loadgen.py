#!/usr/bin/env python3
"""Load generator for migration tests: POSTs rows to the forum app at whatever address the
lab's authoritative DNS gives for the site name (re-resolved every few requests, as a client
with a short-TTL cache would), and records every id the app acknowledged (HTTP 201 with an
id, returned only after COMMIT). Also uploads a file now and then and records its sha256.

Stops when the stop file appears or after --max-seconds. Loopback/lab addresses only.
"""
import argparse, hashlib, http.client, json, os, subprocess, sys, time


def resolve(server, port, name):
    out = subprocess.run(["dig", "+short", "+time=1", "+tries=1", "-p", str(port), "@" + server, name, "A"],
                         capture_output=True, text=True).stdout.split()
    return out[0] if out else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--name", default="www.example.test")
    ap.add_argument("--dns", default="127.0.0.1:5300")
    ap.add_argument("--acks", required=True)
    ap.add_argument("--files", required=True)
    ap.add_argument("--stop", required=True)
    ap.add_argument("--max-seconds", type=float, default=900)
    ap.add_argument("--interval", type=float, default=0.02)
    a = ap.parse_args()
    server, port = a.dns.split(":")
    t0 = time.time()
    addr, n, sent, errors = None, 0, 0, 0
    with open(a.acks, "a") as acks, open(a.files, "a") as files:
        while not os.path.exists(a.stop) and time.time() - t0 < a.max_seconds:
            if n % 10 == 0 or addr is None:
                addr = resolve(server, port, a.name) or addr
            n += 1
            if addr is None:
                time.sleep(0.2)
                continue
            try:
                c = http.client.HTTPConnection(addr, 80, timeout=3)
                if n % 25 == 0:
                    body = os.urandom(2048 + n)
                    fname = "load-%d.bin" % n
                    c.request("PUT", "/uploads/" + fname, body=body, headers={"Host": a.name})
                    r = c.getresponse()
                    r.read()
                    if r.status in (200, 201):
                        files.write("%s %s\n" % (fname, hashlib.sha256(body).hexdigest()))
                        files.flush()
                else:
                    c.request("POST", "/items", body=("row %d" % n).encode(), headers={"Host": a.name})
                    r = c.getresponse()
                    data = r.read()
                    sent += 1
                    if r.status in (200, 201):
                        acks.write("%d\n" % json.loads(data)["id"])
                        acks.flush()
                    else:
                        errors += 1
                c.close()
            except Exception:
                errors += 1
                time.sleep(0.05)
            time.sleep(a.interval)
    print("loadgen: %d requests, %d errors" % (n, errors), file=sys.stderr)


if __name__ == "__main__":
    main()
