"""The doctor's report: its first page holds the diary's figures, in HTML and in PDF."""
import html.parser
import os
import re
import shutil
import subprocess

import pytest

from jerklog import JerklogError
from jerklog.diary import Diary
from jerklog.exports.report import NOT_A_DIAGNOSIS, write_report
from jerklog.store.database import Store
from jerklog.store.notes import add_note
from test_diary import MIN, REGIONS, T0, H, Wearer

END = T0 + 6 * H


def squash(text):
    return re.sub(r"\s+", " ", text).strip()


@pytest.fixture
def store(tmp_path):
    w = Wearer(str(tmp_path / "store.sqlite3"))
    for dev, region in REGIONS.items():
        w.wear(dev, region, T0, END)
    w.jerk(1, T0 + H, peak_g=2.5).jerk(2, T0 + H + 10).jerk(3, T0 + H + 30)
    w.jerk(1, T0 + H + 5 * MIN).jerk(4, T0 + H + 5 * MIN + 20)
    w.jerk(1, T0 + 2 * H).jerk(1, T0 + 2 * H + 10000)
    w.jerk(1, T0 + 4 * H).jerk(3, T0 + 4 * H + 10 * MIN).jerk(3, T0 + 4 * H + 12 * MIN)
    for k in range(5):  # a doubtful series: small, just above what the wearer was doing
        w.jerk(2, T0 + 5 * H + 500 * k, peak_g=0.25, confidence=0.2)
    w.jerk(1, T0 + 3 * H, kind="trigger")
    s = w.finish()
    add_note(s, T0 + 3 * H, "medication", name="levetiracetam", dose="500 mg")
    add_note(s, T0 + 4 * H, "trigger", text="loud door bang")
    add_note(s, T0 + 2 * H, "note", text="coffee, 2 cups")
    yield s
    s.close()


def expected_tokens(store):
    """Figures the diary computes, as the first page must show them."""
    d = Diary(store, T0, END, tz="Europe/Berlin")
    S = d.summary()
    F, E, R, Q = S["frequency"], S["extents"], S["rhythm"], S["quality"]
    assert (F["jerks"], E["generalised"], E["multifocal"], E["focal"], R["series"]) == \
        (12, 1, 2, 9, 1)            # the scenario's own truth
    assert F["sure"] == 7           # the five of the doubtful series are not
    m = S["medication"][0]
    return [
        "%d jerks" % F["jerks"], "generalised %d" % E["generalised"],
        "multifocal %d" % E["multifocal"], "focal %d" % E["focal"],
        "left wrist %d" % [r for r in S["regions"] if r["region"] == "left wrist"][0]["events"],
        "%.1f jerks per recorded hour" % F["per_hour"], "%d per 24 h" % round(F["per_24h"]),
        "sure %d of %d" % (F["sure"], F["jerks"]),
        "%d series" % R["series"], "%.2f Hz" % R["rate_median_hz"],
        "Peak acceleration %.2f g" % S["strength"]["peak_g"]["median"],
        "range %.2f-%.2f" % (S["strength"]["peak_g"]["min"], S["strength"]["peak_g"]["max"]),
        "levetiracetam 500 mg: %.1f/h" % m["before_per_hour"],
        "-> %.1f/h after" % m["after_per_hour"],
        "%d trigger marks (1 button, 1 noted)" % S["triggers"]["marks"], "loud door bang",
        "coffee, 2 cups", "Recorded %d%% of the period" % round(Q["pct"]),
        "at rest %d" % S["contexts"]["rest"],
        "time zone Europe/Berlin", NOT_A_DIAGNOSIS,
    ]


class _Text(html.parser.HTMLParser):
    """Text per section id, and every src/href, of an HTML page."""

    def __init__(self):
        super().__init__()
        self.sections, self.refs, self.current, self.imgs = {}, [], None, 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section":
            self.current = attrs.get("id")
        if tag == "img":
            self.imgs += 1
        for key in ("src", "href"):
            if key in attrs:
                self.refs.append(attrs[key])

    def handle_endtag(self, tag):
        if tag == "section":
            self.current = None

    def handle_data(self, data):
        self.sections.setdefault(self.current, []).append(data)

    def text(self, section):
        return squash(" ".join(self.sections.get(section, [])))


def test_html_first_page_holds_the_diary_figures(store, tmp_path):
    out = tmp_path / "report.html"
    info = write_report(store, str(out), T0, END, tz="Europe/Berlin")
    p = _Text()
    p.feed(out.read_text(encoding="utf-8"))
    first = p.text("summary")
    for token in expected_tokens(store):
        assert token in first, token
    assert "Patient" not in first and "date of birth" not in first
    # Self-contained: every image inline, nothing fetched from elsewhere.
    assert p.imgs >= 4 and all(r.startswith("data:image/png;base64,") for r in p.refs)
    assert info["events_total"] == 13 and info["events_listed"] == 13
    assert oct(os.stat(out).st_mode & 0o777) == "0o600"


def test_html_name_dob_and_truncated_list(store, tmp_path):
    out = tmp_path / "report.htm"
    info = write_report(store, str(out), T0, END, tz="Europe/Berlin", name="Jane Doe",
                        dob="1980-05-17", max_events=3)
    p = _Text()
    p.feed(out.read_text(encoding="utf-8"))
    assert "Patient: Jane Doe, date of birth: 1980-05-17" in p.text("summary")
    assert info["events_listed"] == 3
    assert "The first 3 are shown; all are in the CSV diary" in p.text(None)


def _need(tool):
    if shutil.which(tool) is None:
        pytest.skip("%s not installed (Debian: apt-get install poppler-utils)" % tool)


def test_pdf_first_page_holds_the_diary_figures(store, tmp_path):
    _need("pdftotext")
    out = tmp_path / "report.pdf"
    info = write_report(store, str(out), T0, END, tz="Europe/Berlin", name="Jane Doe",
                        dob="1980-05-17")
    assert info["pages"] >= 6
    page1 = subprocess.run(["pdftotext", "-f", "1", "-l", "1", "-layout", str(out), "-"],
                           capture_output=True, text=True, check=True).stdout
    text = squash(page1)
    for token in expected_tokens(store):
        # The first page wraps its answers; a figure never straddles a line.
        assert token in text or token.replace(" ", "") in text.replace(" ", ""), token
    assert "Jane Doe" in text and "1980-05-17" in text
    rest = subprocess.run(["pdftotext", "-f", "2", str(out), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "Event list: 13 jerks and trigger presses" in rest
    assert oct(os.stat(out).st_mode & 0o777) == "0o600"


def test_pdf_renders_to_png(store, tmp_path):
    _need("pdftoppm")
    out = tmp_path / "report.pdf"
    write_report(store, str(out), T0, END, tz="Europe/Berlin")
    subprocess.run(["pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "2", str(out),
                    str(tmp_path / "page")], check=True, capture_output=True)
    pages = sorted(f for f in os.listdir(tmp_path) if f.startswith("page"))
    assert len(pages) == 2
    import matplotlib.image
    img = matplotlib.image.imread(str(tmp_path / pages[0]))
    assert img.shape[0] > img.shape[1] > 250          # portrait A4
    assert img[..., :3].std() > 0.05                   # not blank


def test_report_on_an_empty_store(tmp_path):
    store = Store(str(tmp_path / "empty.sqlite3"))
    for name in ("r.pdf", "r.html"):
        info = write_report(store, str(tmp_path / name), T0, END, tz="UTC")
        assert info["events_total"] == 0
    assert "0 jerks" in " ".join(t for _, t in info["rows"])


def test_report_refuses_unknown_formats(store, tmp_path):
    with pytest.raises(JerklogError, match=r"\.pdf or \.html"):
        write_report(store, str(tmp_path / "r.docx"), T0, END)
    with pytest.raises(JerklogError, match="date of birth"):
        write_report(store, str(tmp_path / "r.html"), T0, END, dob="17/05/1980")
    assert not os.listdir(tmp_path) or all(not f.startswith("r.") for f in os.listdir(tmp_path))
