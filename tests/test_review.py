"""jerklog review over plain HTTP (no browser): the token is required, marks are stored at once
and survive a new server, undo takes back the newest, the page is self-contained, and the
server stops when the page goes quiet or says goodbye."""
import json
import shutil
import threading
import time
import urllib.error
import urllib.request

import pytest

from jerklog.exports.review import ReviewServer
from jerklog.store.database import Store

T0 = 1_795_000_000_000  # 2026-11-18, a fixed UTC start


def board_store(path, scenario="rest", seed=3, region="left_wrist", device_id=7):
    """A store with a board's events and their evidence: a generated scenario through the
    board's own loop in memory and the host's ingest, as a simulated board would send it
    (into the store at path, which may hold other boards already)."""
    from jerklog.boards.ingest import Ingest
    from jerklog.judge.capture import capture
    from jerklog.sim.generate import generate
    _, raw = generate(scenario, None, 100, seed, region)
    frames = capture(raw.t_ms(), raw.values(), raw.rate_hz, True, None, region,
                     device_id=device_id, boot_id=99, epoch_ms=T0, keep_records=True).records
    store = Store(str(path))
    up = [0]  # the host hears each record as the board sends it: its clock follows uptime
    ing = Ingest(store, clock=lambda: T0 + up[0])
    with store.transaction():
        for r in frames:
            up[0] = max(up[0], r.get("uptime_ms") or r.get("t_ms") or 0)
            ing.handle(r)
    store.close()
    return str(path)


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    return board_store(tmp_path_factory.mktemp("review") / "board.sqlite3")


@pytest.fixture
def db(made, tmp_path):
    path = str(tmp_path / "s.sqlite3")
    shutil.copy(made, path)
    return path


class Running:
    """A ReviewServer serving in a thread; .get/.post return (status, parsed body)."""

    def __init__(self, path, **kw):
        self.store = Store(path, create=False)
        self.server = ReviewServer(self.store, **kw)
        self.out = None
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        self.out = self.server.serve()

    def request(self, path, body=None, url=None):
        url = url or self.server.url + path
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(url, data=data, method="GET" if body is None else "POST")
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                raw, code, kind = r.read(), r.status, r.headers.get("Content-Type", "")
        except urllib.error.HTTPError as e:
            raw, code, kind = e.read(), e.code, e.headers.get("Content-Type", "")
        return code, json.loads(raw) if kind.startswith("application/json") and raw else raw

    def close(self):
        if self.thread.is_alive():
            self.server.stop()
        self.thread.join(10)
        self.store.close()


@pytest.fixture
def running(db):
    r = Running(db)
    yield r
    r.close()


def test_every_request_without_the_token_is_refused(running):
    base = "http://127.0.0.1:%d/" % running.server.port
    for path in ("", "api/events", "x" + running.server.token + "/", running.server.token[:-1]
                 + "/api/events"):
        assert running.request(None, url=base + path)[0] == 403
    code, _ = running.request(None, body={"device_id": 7, "boot_id": 1, "seq": 1,
                                          "mark": "confirmed"}, url=base + "api/mark")
    assert code == 403
    assert running.request("")[0] == 200
    assert running.server.url.startswith("http://127.0.0.1:")
    assert running.server.httpd.server_address[0] == "127.0.0.1"


def test_the_page_is_self_contained(running):
    code, page = running.request("")
    text = page.decode()
    assert code == 200 and "getContext(\"2d\")" in text  # waveforms drawn in the page
    for outside in ("http:", "https:", "//cdn", "<script src", "<link rel=\"stylesheet\""):
        assert outside not in text
    assert text.count("<script") == 1 and "nonce=\"%s\"" % running.server.nonce in text


def test_marks_are_stored_at_once_undone_and_survive_a_new_server(db):
    r = Running(db)
    try:
        code, page = r.request("api/events?offset=0&limit=100")
        assert code == 200 and page["total"] == len(page["events"]) > 3
        first = page["events"][0]
        assert first["wave"] and len(first["wave"]["acc"]) == 3
        assert len(first["wave"]["acc"][0]) == len(first["wave"]["gyro"]) > 50
        assert page["counts"]["unmarked"] == page["total"]
        keys = [(e["device_id"], e["boot_id"], e["seq"]) for e in page["events"]]
        for key, mark in zip(keys, ("confirmed", "rejected", "unsure", "confirmed")):
            code, got = r.request("api/mark", dict(zip(("device_id", "boot_id", "seq"), key),
                                                   mark=mark))
            assert code == 200 and got["mark"] == mark
        # Durable at once: another connection to the store sees them before the server stops.
        with Store(db, create=False) as other:
            assert other.review_marks() == dict(zip(keys, ("confirmed", "rejected", "unsure",
                                                           "confirmed")))
        code, got = r.request("api/undo", {})
        assert (code, got["i"], got["mark"]) == (200, 3, None)
        code, got = r.request("api/mark", dict(zip(("device_id", "boot_id", "seq"), keys[1]),
                                               mark="confirmed"))
        code, got = r.request("api/undo", {})
        assert (got["i"], got["mark"]) == (1, "rejected")  # the mark before it again
        assert got["counts"] == dict(confirmed=1, rejected=1, unsure=1,
                                     unmarked=page["total"] - 3, total=page["total"])
        assert r.request("api/mark", {"device_id": 1, "boot_id": 2, "seq": 3,
                                      "mark": "confirmed"})[0] == 400
        assert r.request("api/mark", dict(zip(("device_id", "boot_id", "seq"), keys[0]),
                                          mark="maybe"))[0] == 400
    finally:
        r.close()
    assert r.out["marks"] == 3 and r.out["stopped"] == "stopped"
    r = Running(db)
    try:
        _, page = r.request("api/events?offset=1&limit=2")
        assert [e["mark"] for e in page["events"]] == ["rejected", "unsure"]
        assert r.request("api/undo", {})[1]["i"] is None  # a new session undoes only its own
    finally:
        r.close()


def test_events_come_a_page_at_a_time(running):
    _, whole = running.request("api/events?offset=0&limit=1000")
    parts = []
    for offset in range(0, whole["total"], 2):
        _, p = running.request("api/events?offset=%d&limit=2" % offset)
        parts += p["events"]
    assert [e["i"] for e in parts] == list(range(whole["total"]))
    assert parts == whole["events"]


def test_the_server_stops_when_the_page_goes_quiet_or_says_goodbye(db):
    r = Running(db, idle_s=0.6, bye_grace_s=0.3)
    time.sleep(1.0)
    assert r.thread.is_alive()  # no page opened yet: it waits
    r.request("")
    r.thread.join(5)
    assert not r.thread.is_alive() and r.out["stopped"] == "the page stopped answering"
    r.close()
    r = Running(db, idle_s=30, bye_grace_s=0.3)
    r.request("")
    r.request("api/bye", {})
    r.thread.join(5)
    assert not r.thread.is_alive() and r.out["stopped"] == "the page was closed"
    r.close()
    # A reload: goodbye, then the page again within the grace time keeps it serving.
    r = Running(db, idle_s=30, bye_grace_s=0.5)
    r.request("")
    r.request("api/bye", {})
    r.request("")
    time.sleep(0.9)
    assert r.thread.is_alive()
    r.close()


def test_marks_appear_in_the_csv_and_apart_on_page_one(db, tmp_path):
    import csv

    from jerklog.diary import Diary
    from jerklog.exports.diary_csv import write_events_csv
    from jerklog.exports.report import first_page, write_report
    with Store(db, create=False) as store:
        keys = [(e["device_id"], e["boot_id"], e["seq"]) for e in store.events()]
        assert "Reviewed" not in dict(first_page(Diary(store), marks=store.review_marks())[1])
        with store.transaction():
            for key, mark in zip(keys, ("confirmed", "rejected", "unsure", "confirmed")):
                store.add_review_mark(*key, mark, T0)
            store.add_review_mark(*keys[3], None, T0 + 1)  # cleared again
        out = tmp_path / "d.csv"
        write_events_csv(store, str(out), tz="UTC")
        rows = list(csv.DictReader(open(out)))
        assert [r["review"] for r in rows] == ["confirmed", "rejected", "unsure"] + [""] * (
            len(rows) - 3)
        rows = dict(first_page(Diary(store), marks=store.review_marks())[1])
        assert rows["Reviewed"].startswith("1 of %d jerks confirmed by review" % len(keys))
        assert "1 marked not a jerk, 1 unsure, %d not reviewed" % (len(keys) - 3) in \
            rows["Reviewed"]
        info = write_report(store, str(tmp_path / "r.html"), tz="UTC")
        assert dict(info["rows"])["Reviewed"] == rows["Reviewed"]
