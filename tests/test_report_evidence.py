"""The report's evidence page: per body region the largest, a typical and the most doubtful
jerk drawn from the stored waveforms, other sensors' traces of the same jerk with it, and one
sentence instead when no waveform is stored."""
import numpy as np
import pytest

from jerklog.diary import Diary
from jerklog.exports import report_evidence
from jerklog.exports.report import write_report
from jerklog.store.database import Store
from test_review import board_store

pytest.importorskip("matplotlib")


@pytest.fixture(scope="module")
def two_sensors(tmp_path_factory):
    path = tmp_path_factory.mktemp("evidence") / "two.sqlite3"
    board_store(path, region="left_wrist", device_id=7)
    return board_store(path, region="trunk", device_id=8)


def test_each_region_shows_its_largest_typical_and_most_doubtful_jerk(two_sensors, tmp_path):
    with Store(two_sensors, create=False) as store:
        d = Diary(store, tz="UTC")
        picks = report_evidence.gather(store, d)
        assert set(picks) == {"left_wrist", "trunk"}
        ev = d.events[d.events["is_jerk"]]
        for site, chosen in picks.items():
            mine = ev[ev["site"] == site]
            assert [role for role, _, _ in chosen] == ["largest", "typical", "doubtful"]
            (_, big, _), (_, typ, _), (_, low, _) = chosen
            assert big.peak_g == mine["peak_g"].max()
            assert abs(typ.peak_g - mine["peak_g"].median()) == min(
                abs(mine["peak_g"] - mine["peak_g"].median()))
            assert low.confidence == mine["confidence"].min()
            for _, r, traces in chosen:
                assert traces[0][0] == site  # its own trace first, then the others'
                t, a = traces[0][1], traces[0][2]
                assert t[0] < 0 < t[-1] and abs(float(t[np.argmax(a)])) <= 30
            # The same jerk seen by both sensors: both traces on one time axis.
            assert {tr[0] for tr in chosen[0][2]} == {"left_wrist", "trunk"}
        info = write_report(store, str(tmp_path / "r.html"), tz="UTC")
        page = open(tmp_path / "r.html").read()
        assert info["format"] == "html" and 'id="evidence"' in page
        assert page.count('alt="evidence-') == 2
        assert write_report(store, str(tmp_path / "r.pdf"), tz="UTC")["pages"] >= 4


def test_without_waveforms_one_sentence_says_so(tmp_path):
    with Store(str(tmp_path / "e.sqlite3")) as store:
        store.upsert_boot(1, 1, 0, region="wrist", epoch_ms=1_795_000_000_000, clock="device")
        with store.transaction():
            store.add_event(1, 1, 1, 1000, 1_795_000_001_000, dict(
                duration_ms=50, peak_g=0.5, peak_dps=None, kind="jerk", axis="+x",
                context="rest", posture="upright", confidence=0.9, activity_g=0.01))
        d = Diary(store, tz="UTC")
        assert report_evidence.gather(store, d) is None
        blocks = report_evidence.blocks(d, None)
        assert len(blocks) == 1 and "No waveforms are stored" in blocks[0].text
        write_report(store, str(tmp_path / "r.html"), tz="UTC")
        assert "No waveforms are stored" in open(tmp_path / "r.html").read()
