"""`jerklog review`: a web page on this computer where the wearer or a doctor sees each event's
waveform and marks it confirmed, not a jerk or unsure; the marks go into the store at once.

The server listens on 127.0.0.1 only (nothing from the network can reach it) and answers
only requests whose path starts with a random token (403 otherwise), so another user or a
web page in the same browser cannot read the diary or mark events. It stops on Ctrl-C, when
the page has been quiet for idle_s (no heartbeat: the tab was closed or the browser quit;
a hidden tab, whose timers the browser slows, gets hidden_idle_s), or bye_grace_s after the
page said goodbye (a reload comes back before that).

    server = ReviewServer(store, from_ms, to_ms, zones)
    print(server.url); summary = server.serve()
"""
import hmac
import http.server
import json
import secrets
import threading
import time
import urllib.parse

from jerklog import JerklogError
from jerklog.exports import review_page
from jerklog.exports.review_data import Reviewing

IDLE_S = 15.0          # no request for this long: the page is gone
HIDDEN_IDLE_S = 150.0  # ... while the page said it is hidden (Chrome wakes it once a minute)
BYE_GRACE_S = 3.0      # after the page's goodbye: a reload's first request comes before this
MAX_BODY = 4096        # bytes of a request body (a mark is ~80)


class ReviewServer:
    """The review page's HTTP server over one store; serve() blocks until it stops."""

    def __init__(self, store, from_ms=None, to_ms=None, zones=None, port=0,
                 idle_s=IDLE_S, hidden_idle_s=HIDDEN_IDLE_S, bye_grace_s=BYE_GRACE_S):
        self.review = Reviewing(store, from_ms, to_ms, zones)
        self.token = secrets.token_urlsafe(24)
        self.nonce = secrets.token_urlsafe(16)
        self.lock = threading.Lock()           # one store connection, one request at a time
        self.idle_s, self.hidden_idle_s, self.bye_grace_s = idle_s, hidden_idle_s, bye_grace_s
        self.last_seen = None                  # monotonic s of the page's last request
        self.hidden = False
        self.bye_at = None
        self.stopped_because = None
        self.httpd = _Server(("127.0.0.1", port), _handler(self))
        self.port = self.httpd.server_address[1]
        self.url = "http://127.0.0.1:%d/%s/" % (self.port, self.token)

    def seen(self, hidden=None):
        """A request from the page; a heartbeat (hidden given) does not take back a goodbye:
        a closing tab's last heartbeat may arrive after its goodbye. A reload's page does."""
        self.last_seen = time.monotonic()
        if hidden is None:
            self.bye_at = None
        else:
            self.hidden = hidden

    def bye(self):
        self.bye_at = time.monotonic()

    def _watch(self, stop):
        while not stop.wait(0.25):
            now = time.monotonic()
            if self.bye_at is not None and now - self.bye_at > self.bye_grace_s:
                self.stopped_because = "the page was closed"
            elif self.last_seen is not None and now - self.last_seen > (
                    self.hidden_idle_s if self.hidden else self.idle_s):
                self.stopped_because = "the page stopped answering"
            else:
                continue
            self.httpd.shutdown()
            return

    def serve(self) -> dict:
        """Serve until the page is gone or Ctrl-C; return {stopped, marks, counts}."""
        stop = threading.Event()
        watcher = threading.Thread(target=self._watch, args=(stop,), daemon=True)
        watcher.start()
        try:
            self.httpd.serve_forever(poll_interval=0.2)
        except KeyboardInterrupt:
            self.stopped_because = "Ctrl-C"
        finally:
            stop.set()
            self.httpd.server_close()
        with self.lock:
            counts = self.review.counts()
        return dict(stopped=self.stopped_because, marks=self.review.given, counts=counts)

    def stop(self):
        """Stop serve() from another thread."""
        self.stopped_because = self.stopped_because or "stopped"
        self.httpd.shutdown()


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        import sys
        if isinstance(sys.exc_info()[1], ConnectionError):
            return  # the page went away mid-answer (a closed tab): nothing to say
        super().handle_error(request, client_address)


def _handler(server):
    class Handler(http.server.BaseHTTPRequestHandler):
        server_version = "jerklog-review"
        sys_version = ""

        def log_message(self, *args):  # the terminal shows one line per outcome, not requests
            pass

        def _send(self, code, body=b"", kind="application/json"):
            self.send_response(code)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("Referrer-Policy", "no-referrer")  # the token is in the URL
            self.send_header("X-Content-Type-Options", "nosniff")
            if kind.startswith("text/html"):
                self.send_header("Content-Security-Policy",
                                 "default-src 'none'; script-src 'nonce-%s'; style-src "
                                 "'unsafe-inline'; img-src data:; connect-src 'self'; "
                                 "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
                                 % server.nonce)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _json(self, obj, code=200):
            self._send(code, json.dumps(obj, separators=(",", ":")).encode("utf-8"))

        def _route(self):
            """The path after the token, or None (answered 403) without the right token or
            with a Host that is not this server (a page elsewhere rebinding a name to us)."""
            host = (self.headers.get("Host") or "").lower()
            if host not in ("127.0.0.1:%d" % server.port, "localhost:%d" % server.port):
                self._send(403, b"forbidden\n", "text/plain")
                return None
            url = urllib.parse.urlsplit(self.path)
            first, _, rest = url.path.lstrip("/").partition("/")
            if not hmac.compare_digest(first.encode(), server.token.encode()):
                self._send(403, b"forbidden: this page needs the address jerklog review "
                           b"printed\n", "text/plain")
                return None
            return rest, urllib.parse.parse_qs(url.query), url.path

        def do_GET(self):
            got = self._route()
            if got is None:
                return
            rest, query, path = got
            if rest == "" and not path.endswith("/"):
                self.send_response(301)
                self.send_header("Location", path + "/")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            server.seen()
            if rest == "":
                self._send(200, review_page.page(server.nonce), "text/html; charset=utf-8")
            elif rest == "api/events":
                try:
                    offset = int(query.get("offset", ["0"])[0])
                    limit = min(int(query.get("limit", ["100"])[0]), 1000)
                except ValueError:
                    return self._json(dict(error="offset and limit are numbers"), 400)
                with server.lock:
                    self._json(server.review.page(offset, limit))
            else:
                self._send(404, b"not found\n", "text/plain")

        do_HEAD = do_GET

        def do_POST(self):
            got = self._route()
            if got is None:
                return
            rest, query, _ = got
            n = int(self.headers.get("Content-Length") or 0)
            if n > MAX_BODY:
                return self._json(dict(error="request too large"), 413)
            raw = self.rfile.read(n) if n else b""
            if rest == "api/bye":
                server.bye()
                return self._send(204)
            if rest == "api/alive":
                server.seen(hidden=query.get("hidden", ["0"])[0] == "1")
                return self._json(dict(ok=True))
            server.seen()
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                return self._json(dict(error="the body is not JSON"), 400)
            with server.lock:
                r = server.review
                try:
                    if rest == "api/mark":
                        i = r.mark(body["device_id"], body["boot_id"], body["seq"],
                                   body.get("mark"))
                        return self._json(dict(i=i, mark=r.marks.get(r.keys[i]),
                                               counts=r.counts()))
                    if rest == "api/undo":
                        done = r.undo()
                        i, mark = done if done else (None, None)
                        return self._json(dict(i=i, mark=mark, counts=r.counts()))
                except (JerklogError, KeyError, TypeError, ValueError) as e:
                    return self._json(dict(error=str(e)), 400)
                except Exception as e:  # the store could not write: say so, keep serving
                    return self._json(dict(error="not stored: %s" % e), 500)
            self._send(404, b"not found\n", "text/plain")

    return Handler
