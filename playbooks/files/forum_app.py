#!/usr/bin/python3
"""forum-app: the small forum service that decamp deploys, migrates and drills with.

Standard library HTTP server plus psycopg2 (Debian: python3-psycopg2). Installed by
playbooks/app.yml to /opt/forum/forum_app.py and run by systemd as `forum-app`, behind
nginx (playbooks/web.yml).

Configuration comes from the environment (/etc/forum/app.env on the hosts):

    DB_HOST, DB_PORT (5432), DB_NAME (forum), DB_USER (forum), DB_PASSWORD
    UPLOAD_DIR (/srv/forum/uploads), LISTEN_HOST (127.0.0.1), LISTEN_PORT (8080)
    UPLOAD_MAX_BYTES (50 MiB, same as nginx's client_max_body_size)

Endpoints:

    GET  /livez            200 while the process serves requests; never touches the DB
    GET  /healthz          200 {"ok": true, "rows": N, "db": host, "in_recovery": bool}
                           when the database answers, 503 {"ok": false, ...} otherwise
    POST /items            body = UTF-8 text; 201 {"id": N}, sent only after COMMIT
    GET  /items/count      200 {"count": N}
    GET  /items/<id>       200 {"id", "body", "created_at"} or 404
    PUT  /uploads/<name>   body stored as a file (atomically); 201 {"name", "size", "sha256"}
    GET  /uploads/<name>   the stored bytes, or 404

The database may disappear or move (decamp migrates it between hosts): every database
error answers 503 and the next request reconnects. The process never exits because the
database is gone.

The app never runs DDL: its schema (files/forum-schema.sql) is created on the primary by
playbooks/postgres.yml. A database without it answers 503 ("relation items does not
exist"), and a read-only replica serves reads without the app trying to write to it.
"""

import hashlib
import json
import os
import re
import signal
import sys
import tempfile
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psycopg2

# Upload names: letters, digits, '.', '_' and '-', starting with a letter, digit or '_',
# so '..', '.', '-x' and hidden names (our temporary files start with '.') are refused.
SAFE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,199}$")
MAX_ITEM_BYTES = 1024 * 1024
CHUNK = 256 * 1024


def log(msg):
    print("forum-app: " + msg, file=sys.stderr, flush=True)


def first_line(exc):
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class Database:
    """A small pool of psycopg2 connections that survives the server going away.

    A connection that fails is thrown away; the next request opens a new one. A statement
    that fails because a pooled connection had died is retried once on a fresh connection:
    that is safe because nothing was committed on the dead one. A failure during COMMIT is
    never retried (the outcome is unknown) and reaches the client as 503.
    """

    def __init__(self, params, pool_size=8):
        self.params = params
        self.pool_size = pool_size
        self._idle = []
        self._lock = threading.Lock()

    @property
    def host(self):
        return self.params["host"]

    def _connect(self):
        return psycopg2.connect(
            connect_timeout=3,
            application_name="forum-app",
            keepalives=1,
            keepalives_idle=10,
            keepalives_interval=3,
            keepalives_count=3,
            options="-c statement_timeout=10000",
            **self.params,
        )

    def _get(self):
        with self._lock:
            if self._idle:
                return self._idle.pop(), True
        return self._connect(), False

    def _put(self, conn):
        if conn.closed:
            return
        with self._lock:
            if len(self._idle) < self.pool_size:
                self._idle.append(conn)
                return
        conn.close()

    def close(self):
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            try:
                conn.close()
            except psycopg2.Error:
                pass

    def run(self, fn):
        """fn(cursor) inside one transaction; returns fn's result after COMMIT."""
        conn, reused = self._get()
        for attempt in (1, 2):
            try:
                with conn.cursor() as cur:
                    result = fn(cur)
            except psycopg2.Error as exc:
                dead = conn.closed != 0
                if dead:
                    conn.close()
                else:
                    try:
                        conn.rollback()
                        self._put(conn)
                    except psycopg2.Error:
                        conn.close()
                if dead and reused and attempt == 1:
                    conn, reused = self._connect(), False
                    continue
                raise
            except BaseException:
                conn.close()
                raise
            try:
                conn.commit()
            except BaseException:
                conn.close()
                raise
            self._put(conn)
            return result
        raise AssertionError("unreachable")


class App:
    def __init__(self):
        env = os.environ
        self.db = Database(
            {
                "host": env.get("DB_HOST", "127.0.0.1"),
                "port": int(env.get("DB_PORT", "5432")),
                "dbname": env.get("DB_NAME", "forum"),
                "user": env.get("DB_USER", "forum"),
                "password": env.get("DB_PASSWORD", ""),
            }
        )
        self.upload_dir = env.get("UPLOAD_DIR", "/srv/forum/uploads")
        self.upload_max = int(env.get("UPLOAD_MAX_BYTES", str(50 * 1024 * 1024)))
        self.listen = (env.get("LISTEN_HOST", "127.0.0.1"), int(env.get("LISTEN_PORT", "8080")))


APP = None  # set in main()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "forum-app/1.0"
    sys_version = ""
    timeout = 75  # idle keep-alive connections give their thread back

    # ---- plumbing -------------------------------------------------------------------

    def log_message(self, fmt, *args):
        sys.stderr.write("forum-app: %s %s\n" % (self.address_string(), fmt % args))

    def send_body(self, status, body, content_type, close=False):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_json(self, status, obj, close=False):
        body = (json.dumps(obj, separators=(",", ":")) + "\n").encode()
        self.send_body(status, body, "application/json", close=close)

    def send_error_json(self, status, message, close=False):
        self.send_json(status, {"error": message}, close=close)

    def content_length(self, limit):
        """Declared body length, or None after answering (411/413/400) and closing."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self.send_error_json(411, "chunked bodies are not supported; send Content-Length", True)
            return None
        raw = self.headers.get("Content-Length")
        if raw is None:
            self.send_error_json(411, "Content-Length required", True)
            return None
        try:
            length = int(raw)
        except ValueError:
            length = -1
        if length < 0:
            self.send_error_json(400, "bad Content-Length", True)
            return None
        if length > limit:
            self.send_error_json(413, "body larger than %d bytes" % limit, True)
            return None
        return length

    def read_exact(self, length):
        data = self.rfile.read(length)
        if len(data) != length:
            raise ConnectionError("client sent %d of %d bytes" % (len(data), length))
        return data

    def db_unavailable(self, exc):
        log("database error: %s" % first_line(exc))
        self.send_json(503, {"ok": False, "db": APP.db.host, "error": first_line(exc)})

    def route(self):
        path = urllib.parse.urlsplit(self.path).path
        parts = path.split("/", 2)  # "", first segment, rest
        return path, (parts[1] if len(parts) > 1 else ""), (parts[2] if len(parts) > 2 else None)

    # ---- methods --------------------------------------------------------------------

    def do_GET(self):
        path, head, rest = self.route()
        try:
            if path == "/livez":
                self.send_json(200, {"ok": True})
            elif path == "/healthz":
                self.healthz()
            elif path == "/items/count":
                self.items_count()
            elif head == "items" and rest is not None:
                self.item_get(rest)
            elif head == "uploads" and rest is not None:
                self.upload_get(rest)
            elif path == "/":
                self.send_body(200, b"forum-app: see /healthz, /items, /uploads\n",
                               "text/plain; charset=utf-8")
            else:
                self.send_error_json(404, "not found")
        except psycopg2.Error as exc:
            self.db_unavailable(exc)

    do_HEAD = do_GET

    def do_POST(self):
        path, _, _ = self.route()
        if path != "/items":
            self.send_error_json(404 if path != "/items/count" else 405, "not found", True)
            return
        length = self.content_length(MAX_ITEM_BYTES)
        if length is None:
            return
        try:
            raw = self.read_exact(length)
        except OSError as exc:
            log("POST /items aborted: %s" % exc)
            self.close_connection = True
            return
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            self.send_error_json(400, "body must be UTF-8 text")
            return
        if "\x00" in text:
            self.send_error_json(400, "body must not contain NUL characters")
            return

        def insert(cur):
            cur.execute("INSERT INTO items (body) VALUES (%s) RETURNING id", (text,))
            return cur.fetchone()[0]

        try:
            new_id = APP.db.run(insert)  # returns only after COMMIT succeeded
        except psycopg2.Error as exc:
            self.db_unavailable(exc)
            return
        self.send_json(201, {"id": new_id})

    def do_PUT(self):
        _, head, rest = self.route()
        if head != "uploads" or rest is None:
            self.send_error_json(404, "not found", True)
            return
        name = self.upload_name(rest)
        if name is None:
            self.send_error_json(400, "bad upload name", True)
            return
        length = self.content_length(APP.upload_max)
        if length is None:
            return
        try:
            self.upload_put(name, length)
        except ConnectionError as exc:
            log("upload %s aborted: %s" % (name, exc))
            self.close_connection = True
        except OSError as exc:
            log("upload %s failed: %s" % (name, exc))
            self.send_error_json(500, "cannot store upload: %s" % exc.strerror, True)

    # ---- endpoints ------------------------------------------------------------------

    def healthz(self):
        def probe(cur):
            cur.execute("SELECT count(*), pg_is_in_recovery() FROM items")
            return cur.fetchone()

        try:
            rows, in_recovery = APP.db.run(probe)
        except psycopg2.Error as exc:
            self.db_unavailable(exc)
            return
        self.send_json(200, {"ok": True, "rows": rows, "db": APP.db.host,
                             "in_recovery": bool(in_recovery)})

    def items_count(self):
        def count(cur):
            cur.execute("SELECT count(*) FROM items")
            return cur.fetchone()[0]

        self.send_json(200, {"count": APP.db.run(count)})

    def item_get(self, rest):
        if not re.fullmatch(r"[0-9]{1,18}", rest):
            self.send_error_json(400, "item id must be a positive integer")
            return

        def fetch(cur):
            cur.execute("SELECT id, body, created_at FROM items WHERE id = %s", (int(rest),))
            return cur.fetchone()

        row = APP.db.run(fetch)
        if row is None:
            self.send_error_json(404, "no such item")
            return
        self.send_json(200, {"id": row[0], "body": row[1], "created_at": row[2].isoformat()})

    @staticmethod
    def upload_name(rest):
        if "/" in rest or "\\" in rest:
            return None
        name = urllib.parse.unquote(rest)
        if "/" in name or "\\" in name or ".." in name or not SAFE_NAME.match(name):
            return None
        return name

    def upload_get(self, rest):
        name = self.upload_name(rest)
        if name is None:
            self.send_error_json(400, "bad upload name")
            return
        try:
            f = open(os.path.join(APP.upload_dir, name), "rb")
        except FileNotFoundError:
            self.send_error_json(404, "no such upload")
            return
        with f:
            size = os.fstat(f.fileno()).st_size
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(size))
            self.end_headers()
            if self.command == "HEAD":
                return
            sent = 0
            while sent < size:
                chunk = f.read(min(CHUNK, size - sent))
                if not chunk:  # truncated under us: the client sees a short body
                    self.close_connection = True
                    return
                self.wfile.write(chunk)
                sent += len(chunk)

    def upload_put(self, name, length):
        digest = hashlib.sha256()
        fd, tmp = tempfile.mkstemp(prefix=".upload-", dir=APP.upload_dir)
        try:
            with os.fdopen(fd, "wb") as f:
                left = length
                while left:
                    chunk = self.rfile.read(min(CHUNK, left))
                    if not chunk:
                        raise ConnectionError("client went away after %d bytes" % (length - left))
                    f.write(chunk)
                    digest.update(chunk)
                    left -= len(chunk)
                f.flush()
                os.fchmod(f.fileno(), 0o640)
                os.fsync(f.fileno())
            os.replace(tmp, os.path.join(APP.upload_dir, name))
            tmp = None
            dirfd = os.open(APP.upload_dir, os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(dirfd)
            finally:
                os.close(dirfd)
        finally:
            if tmp is not None:
                try:
                    os.unlink(tmp)
                except FileNotFoundError:
                    pass
        self.send_json(201, {"name": name, "size": length, "sha256": digest.hexdigest()})


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def main():
    global APP
    APP = App()
    try:
        os.makedirs(APP.upload_dir, exist_ok=True)
    except OSError as exc:
        log("cannot create upload dir %s: %s" % (APP.upload_dir, exc))
    server = Server(APP.listen, Handler)

    def stop(signum, _frame):
        log("signal %d: shutting down" % signum)
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log("listening on http://%s:%d, database %s@%s:%d/%s, uploads in %s" % (
        APP.listen[0], APP.listen[1], APP.db.params["user"], APP.db.host,
        APP.db.params["port"], APP.db.params["dbname"], APP.upload_dir))
    try:
        APP.db.run(lambda cur: cur.execute("SELECT 1"))  # say early whether the database answers
    except psycopg2.Error as exc:
        log("database not reachable yet (will retry per request): %s" % first_line(exc))
    try:
        server.serve_forever(poll_interval=0.5)
    finally:
        server.server_close()
        APP.db.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
