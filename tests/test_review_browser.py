"""jerklog review in a real headless browser (Debian's chromium, driven through chromedriver's
W3C WebDriver HTTP interface with urllib: no client library): the first events show within
2 s, keys mark and undo, a reload shows the stored marks, and closing the page stops the
server. Skips where /usr/bin/chromium or /usr/bin/chromedriver is absent."""
import json
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from jerklog.store import Store
from test_review import Running, board_store

CHROMIUM, DRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]
ARROW_DOWN = "\ue015"

pytestmark = pytest.mark.skipif(
    not (os.access(CHROMIUM, os.X_OK) and os.access(DRIVER, os.X_OK)),
    reason="no %s and %s (apt-get install chromium chromium-driver)" % (CHROMIUM, DRIVER))


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class WebDriver:
    """The few WebDriver commands the test needs, over HTTP to chromedriver."""

    def __init__(self, tmp):
        self.port = _free_port()
        self.proc = subprocess.Popen([DRIVER, "--port=%d" % self.port],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.base = "http://127.0.0.1:%d" % self.port
        deadline = time.monotonic() + 20
        while True:
            try:
                if self._call("GET", "/status")["value"]["ready"]:
                    break
            except (OSError, urllib.error.URLError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("chromedriver did not start")
            time.sleep(0.1)
        caps = {"browserName": "chrome", "goog:chromeOptions": {
            "binary": CHROMIUM, "args": FLAGS + ["--user-data-dir=%s" % tmp]}}
        got = self._call("POST", "/session", {"capabilities": {"alwaysMatch": caps}})
        self.session = "/session/" + got["value"]["sessionId"]

    def _call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return json.loads(r.read())
        except urllib.error.HTTPError as e:
            raise AssertionError("webdriver %s %s: %s" % (method, path, e.read()[:500]))

    def cmd(self, method, path, body=None):
        return self._call(method, self.session + path, body)["value"]

    def js(self, script, *args):
        return self.cmd("POST", "/execute/sync", {"script": script, "args": list(args)})

    def keys(self, text):
        acts = []
        for ch in text:
            acts += [{"type": "keyDown", "value": ch}, {"type": "keyUp", "value": ch}]
        self.cmd("POST", "/actions", {"actions": [{"type": "key", "id": "keyboard",
                                                   "actions": acts}]})

    def wait(self, script, timeout=10.0):
        deadline = time.monotonic() + timeout
        while True:
            got = self.js(script)
            if got:
                return got
            if time.monotonic() > deadline:
                raise AssertionError("timed out waiting for: %s" % script)
            time.sleep(0.05)

    def close_tab(self):
        """Close the page's tab (its last: the browser quits after it)."""
        self.cmd("DELETE", "/window")

    def quit(self):
        try:
            self._call("DELETE", self.session)
        finally:
            self.proc.terminate()
            self.proc.wait(10)


MARKS_SHOWN = ("return Array.from(document.querySelectorAll('.ev')).slice(0, 5)"
               ".map(d => d.dataset.mark)")
SELECTED = "const d = document.querySelector('.ev.sel'); return d ? +d.dataset.i : null"


def test_mark_with_keys_reload_and_the_marks_are_still_there(tmp_path):
    db = board_store(tmp_path / "s.sqlite3")
    srv = Running(db)
    wd = WebDriver(str(tmp_path / "profile"))
    try:
        wd.cmd("POST", "/url", {"url": srv.server.url})
        shown_ms = wd.wait("return window.firstShownMs")
        assert shown_ms < 2000, "first events shown %.0f ms after opening" % shown_ms
        n = wd.js("return document.querySelectorAll('.ev canvas').length")
        assert n == srv.server.review.counts()["total"] >= 5
        assert wd.js(SELECTED) == 0
        # c marks #1 and moves on; arrow down skips #2; r rejects #3; k goes back and
        # arrow down forward again; u marks #4 unsure; z takes that back.
        wd.keys("c" + ARROW_DOWN + "rk" + ARROW_DOWN + "uz")
        want = ["confirmed", "", "rejected", "", ""]
        wd.wait("return document.getElementById('status').textContent === '#4 undone'")
        assert wd.js(MARKS_SHOWN) == want
        assert wd.js(SELECTED) == 3
        keys = srv.server.review.keys
        with Store(db, create=False) as s:
            assert s.review_marks() == {keys[0]: "confirmed", keys[2]: "rejected"}
        wd.cmd("POST", "/refresh", {})
        wd.wait("return window.firstShownMs")
        assert wd.js(MARKS_SHOWN) == want
        counts = wd.js("return document.getElementById('counts').textContent")
        assert "1 confirmed, 1 not a jerk, 0 unsure" in counts
        assert srv.thread.is_alive()  # the reload's goodbye did not stop the server
        t0 = time.monotonic()
        wd.close_tab()
        srv.thread.join(20)  # the closed page's goodbye stops it
        print("server stopped %.1f s after the tab closed" % (time.monotonic() - t0))
    finally:
        wd.quit()
    assert not srv.thread.is_alive() and srv.out["stopped"] == "the page was closed"
    srv.close()
    assert srv.out["marks"] == 2


def test_the_page_fills_a_page_at_a_time(tmp_path, monkeypatch):
    """More events than a page: the first page shows, the rest come as the selection nears
    its end."""
    from jerklog.exports import review_page
    monkeypatch.setattr(review_page, "PAGE_SIZE", 3)
    db = board_store(tmp_path / "s.sqlite3")
    shutil.rmtree(tmp_path / "profile", ignore_errors=True)
    srv = Running(db)
    wd = WebDriver(str(tmp_path / "profile"))
    try:
        wd.cmd("POST", "/url", {"url": srv.server.url})
        wd.wait("return window.firstShownMs")
        total = srv.server.review.counts()["total"]
        wd.keys("j" * (total - 1))
        wd.wait("return document.querySelectorAll('.ev').length === %d" % total)
        assert wd.js(SELECTED) == total - 1
    finally:
        wd.quit()
        srv.close()
