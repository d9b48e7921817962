"""The doctor's report: its first page holds the diary's figures, in HTML and in PDF."""
import html.parser
import os
import re
import shutil
import subprocess

import numpy as np
import pytest

from jerklog import JerklogError
from jerklog.diary import Diary
from jerklog.exports.report import NOT_A_DIAGNOSIS, write_report
from jerklog.store.database import Store
from jerklog.store.notes import add_note
from test_diary import MIN, REGIONS, T0, H, Wearer, iso_ms

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
    """Figures the diary computes, as page 1 must show them."""
    d = Diary(store, T0, END, tz="Europe/Berlin")
    S = d.summary()
    F, E, R, Q = S["frequency"], S["extents"], S["rhythm"], S["quality"]
    assert (F["jerks"], E["generalised"], E["multifocal"], E["focal"], R["series"]) == \
        (12, 1, 2, 9, 1)            # the scenario's own truth
    assert F["sure"] == 7           # the five of the doubtful series are not
    assert Q["pct"] == pytest.approx(100)
    regions = {r["region"]: r for r in S["regions"]}
    m = S["medication"][0]
    n = F["jerks"]
    return [
        # Where: each extent with its share and the regions that saw its jerks.
        "Focal %d%% (%d: right wrist %d" % (round(100 * E["focal"] / n), E["focal"],
                                          regions["right wrist"]["focal"]),
        "multifocal %d%% (%d:" % (round(100 * E["multifocal"] / n), E["multifocal"]),
        "generalised %d%% (%d:" % (round(100 * E["generalised"] / n), E["generalised"]),
        "left ankle %d" % regions["left ankle"]["focal"], "Of %d jerks" % n,
        # How often: per recorded hour, and (no sleep here) the clock's night.
        "%d jerks in %.1f h recorded: %.1f/h (%d sure)" % (n, F["hours"], F["per_hour"],
                                                        F["sure"]),
        "at night %.1f/h (%d in %.1f h; 22:00-07:00, no sleep recorded)" % (
            F["night_per_hour"], F["night_jerks"], F["night_hours"]),
        "Trend: not assessable",
        # Pattern: series and rhythm, with the rate.
        "in series %d%%: %d series" % (round(100 * R["jerks_in_series"] / n), R["series"]),
        "at %.2f Hz" % R["rate_median_hz"], "Rhythm: %s" % R["verdict"],
        "At rest %d%% (%d)" % (round(100 * S["contexts"]["rest"] / n),
                               S["contexts"]["rest"]), "during action 0",
        "%d marks (1 button, 1 noted: loud door bang)" % S["triggers"]["marks"],
        "Peak %.2f g" % S["strength"]["peak_g"]["median"],
        "largest %.2f g" % S["strength"]["peak_g"]["max"],
        "levetiracetam 500 mg (2026-03-02 04:00): %.1f/h in the 7 days before \u2192 "
        "%.1f/h after" % (m["before_per_hour"], m["after_per_hour"]),
        "coffee, 2 cups",
        "Complete: all 4 sensors recorded the whole period (6.0 h)",
        "time zone Europe/Berlin", NOT_A_DIAGNOSIS,
    ]


class _Text(html.parser.HTMLParser):
    """Text per section id, and every src/href, of an HTML page."""

    def __init__(self):
        super().__init__()
        self.sections, self.refs, self.current, self.imgs = {}, [], None, 0
        self.alts = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section":
            self.current = attrs.get("id")
        if tag == "img":
            self.imgs += 1
            self.alts.append(attrs.get("alt"))
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
    page = out.read_text(encoding="utf-8")
    assert "http://" not in page and "https://" not in page and "<script" not in page
    assert "<link" not in page and "@import" not in page and "url(" not in page
    # The raster and the charts that carry information; none that would not.
    assert {"raster", "intervals", "hours", "regions"} <= set(p.alts)
    assert not {"daily", "quality"} & set(p.alts)     # one day; a complete recording
    # Tables typeset as tables: page 1's rows and the later tables are <table>s.
    assert page.count("<table") >= 5 and "<pre" not in page
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
    assert "The first 3 are shown; all are in the CSV diary" in p.text("events")


def _need(tool):
    if shutil.which(tool) is None:
        pytest.skip("%s not installed (Debian: apt-get install poppler-utils)" % tool)


def test_pdf_first_page_holds_the_diary_figures(store, tmp_path):
    _need("pdftotext")
    out = tmp_path / "report.pdf"
    info = write_report(store, str(out), T0, END, tz="Europe/Berlin", name="Jane Doe",
                        dob="1980-05-17")
    assert info["pages"] >= 3
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


# -- page 1 as a reader sees it: nights, the raster, the clock, quality --------------------------
N0 = iso_ms("2026-03-02T20:00:00+01:00")     # two evenings, nights and mornings in Berlin
J0 = N0 + 7_000                              # jerks off the minute of a heartbeat
NIGHT_END = iso_ms("2026-03-04T09:00:00+01:00")


def two_nights(path, stall=(), dropped=()):
    """A left wrist and a left ankle: rest jerks in the evenings and mornings, asleep jerks
    from 23:10 to 06:30, a few seen by both sensors at once (generalised)."""
    w = Wearer(path)
    w.wear(1, "left wrist", N0, NIGHT_END)
    w.wear(2, "left ankle", N0, NIGHT_END, stalls=stall, dropped=dropped)
    for night in range(2):
        base = J0 + night * 24 * H
        for k in range(9):                                   # 20:00-22:40, at rest
            w.jerk(1, base + k * 20 * MIN)
        for k in range(45):                                  # 23:10-06:30, asleep
            t = base + 3 * H + 10 * MIN + k * 10 * MIN
            w.jerk(1 if k % 3 else 2, t, context="asleep")
            if k % 9 == 0:
                w.jerk(2 if k % 3 else 1, t + 15, context="asleep")
        for k in range(7):                                   # 06:50-08:50, at rest
            w.jerk(2, base + 10 * H + 50 * MIN + k * 20 * MIN)
    return w.finish()


@pytest.fixture
def nights_store(tmp_path):
    s = two_nights(str(tmp_path / "nights.sqlite3"))
    yield s
    s.close()


def _pdftotext(path, first, last):
    return squash(subprocess.run(["pdftotext", "-f", str(first), "-l", str(last), "-layout",
                                  str(path), "-"], capture_output=True, text=True,
                                 check=True).stdout)


def test_page1_is_a_clinical_summary_with_the_raster(nights_store, tmp_path):
    """Page 1 rendered as a reader sees it: the table's questions, the regions named, the
    jerks per hour of sleep, and the raster: ticks in the regions' colours and sleep shaded
    below the table."""
    _need("pdftoppm")
    _need("pdftotext")
    from jerklog.exports import report_figures as figs
    d = Diary(nights_store, N0, NIGHT_END, tz="Europe/Berlin")
    F = d.summary()["frequency"]
    assert F["nights_from_sleep"] == 2 and F["nights_from_clock"] == 0
    nights = figs.nights(d)
    assert list(nights["night"]) == ["2026-03-02", "2026-03-03"]
    assert int(nights["jerks"].sum()) == F["night_jerks"]
    out = tmp_path / "report.pdf"
    write_report(nights_store, str(out), N0, NIGHT_END, tz="Europe/Berlin")
    text = _pdftotext(out, 1, 1)
    for label in ("Where", "How often", "Pattern", "When", "Triggers", "Strength",
                  "Medication", "Notes", "Data quality"):
        assert label in text, label
    assert "left wrist" in text and "left ankle" in text
    assert "per hour of sleep %.1f/h (%d in %.1f h)" % (
        F["night_per_hour"], F["night_jerks"], F["night_hours"]) in text
    assert "Per night: median %d jerks" % round(float(nights["jerks"].median())) in text
    assert "Every jerk, day by day (local time; one row per day, from midnight)" in text
    for day in ("Mon 02 Mar", "Tue 03 Mar", "Wed 04 Mar"):
        assert day in text, day
    assert "Complete: all 2 sensors recorded the whole period" in text
    subprocess.run(["pdftoppm", "-png", "-r", "100", "-f", "1", "-l", "1", str(out),
                    str(tmp_path / "page")], check=True, capture_output=True)
    import matplotlib.image
    img = matplotlib.image.imread(str(tmp_path / "page-1.png"))[..., :3]
    rgb = (img * 255).astype(int) if img.max() <= 1.0 else img.astype(int)

    def where(hex_colour, tol=30):
        c = np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)])
        return np.argwhere(np.abs(rgb - c).max(axis=2) <= tol)

    # The raster lies between its title and its legend: find both on the page.
    boxes = subprocess.run(["pdftotext", "-bbox", "-f", "1", "-l", "1", str(out), "-"],
                           capture_output=True, text=True, check=True).stdout
    word = {m.group(3): (float(m.group(1)), float(m.group(2))) for m in re.finditer(
        r'yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">([^<]+)<', boxes)}
    top, bottom = word["Every"][1] * 100 / 72, word["runs)"][0] * 100 / 72
    assert rgb.shape[0] * 0.25 < top < bottom < rgb.shape[0] * 0.9
    colours = figs.region_colours(d)
    inside = lambda px: px[(px[:, 0] > top) & (px[:, 0] < bottom)]  # noqa: E731
    wrist = inside(where(colours["left wrist"]))
    ankle = inside(where(colours["left ankle"]))
    sleep = inside(where(figs.SLEEP, 8))
    assert len(wrist) > 100, "left wrist ticks"
    assert len(ankle) > 100, "left ankle ticks"
    assert len(sleep) > 2000, "sleep shading"
    # The two nights on the raster's day rows: shading split at midnight, so on three
    # rows (the first evening, the night between, the last morning), one below the other.
    rows = np.unique(sleep[:, 0])
    assert 1 + int((np.diff(rows) > 3).sum()) == 3
    # Each region in its own lane: the ankle's ticks above the wrist's in every row.
    assert ankle[:, 0].min() < wrist[:, 0].min()


def test_raster_rows_follow_the_local_clock_across_daylight_saving(tmp_path):
    """2026-03-29 in Berlin has 23 hours: a jerk at 01:30 (+01:00) and one at 03:30
    (+02:00), 1 h apart, sit at 01:30 and 03:30 of that day's row, a jerk at 23:30 at the
    row's end, and the row is marked as one whose UTC offset changed."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from jerklog.exports import report_figures as figs
    from jerklog.exports.report_layout import _Box
    start, end = iso_ms("2026-03-28T12:00:00+01:00"), iso_ms("2026-03-30T12:00:00+02:00")
    w = Wearer(str(tmp_path / "dst.sqlite3"))
    w.wear(1, "trunk", start, end)
    times = ("2026-03-29T01:30:00+01:00", "2026-03-29T03:30:00+02:00",
             "2026-03-29T23:30:00+02:00", "2026-03-28T18:00:00+01:00")
    for t in times:
        w.jerk(1, iso_ms(t))
    d = Diary(w.finish(), start, end, tz="Europe/Berlin")
    assert iso_ms(times[1]) - iso_ms(times[0]) == H
    days = figs.raster_rows(d)
    assert figs.row_start(d) == 0
    assert [figs.day_label(x) for x in days] == ["Sat 28 Mar", "Sun 29 Mar", "Mon 30 Mar"]
    assert figs.offset_rows(d) == {int(days[1])}
    fig = plt.figure(figsize=(7, 4))
    figs.draw_raster(_Box(fig, 0, 0, 7, 4), d, days)
    ax = fig.axes[0]
    ticks = [line for line in ax.lines if str(line.get_gid()).startswith("ticks:")]
    xy = np.concatenate([np.column_stack(line.get_data()) for line in ticks])
    xy = xy[np.isfinite(xy[:, 0])][::2]                    # each tick: bottom, top, NaN
    placed = sorted((int(y), round(float(x), 3)) for x, y in xy)
    assert placed == [(0, 18.0), (1, 1.5), (1, 3.5), (1, 23.5)]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["Sat 28 Mar", "Sun 29 Mar *", "Mon 30 Mar"]
    plt.close(fig)


def test_quality_problems_are_shown_and_a_complete_recording_says_so(tmp_path):
    """A stalled sensor and dropped samples: the data-quality line names them (not
    'Complete'), and the data-quality chart appears; the complete store has neither."""
    bad = two_nights(str(tmp_path / "bad.sqlite3"),
                     stall=[(N0 + 2 * H, N0 + 5 * H)], dropped=[(N0 + 6 * H, 5000)])
    d = Diary(bad, N0, NIGHT_END, tz="Europe/Berlin")
    Q = d.quality()
    assert Q["dropped"] == 5000 and Q["gaps"] == 0
    from jerklog.exports.report import first_page
    line = dict(first_page(d)[1])["Data quality"]
    assert not line.startswith("Complete") and "dropped samples" in line
    assert "per sensor: left ankle 9" in line and "left wrist 100%" in line
    out = tmp_path / "bad.html"
    write_report(bad, str(out), N0, NIGHT_END, tz="Europe/Berlin")
    p = _Text()
    p.feed(out.read_text(encoding="utf-8"))
    assert "quality" in p.alts and "daily" not in p.alts     # two days are not a trend
    assert "Dropped samples" not in p.text("quality")         # a chart, not words, shows it
    good = two_nights(str(tmp_path / "good.sqlite3"))
    out = tmp_path / "good.html"
    write_report(good, str(out), N0, NIGHT_END, tz="Europe/Berlin")
    p = _Text()
    p.feed(out.read_text(encoding="utf-8"))
    assert "quality" not in p.alts
    assert "Complete: all 2 sensors recorded the whole period" in p.text("quality")
    bad.close()
    good.close()


def test_no_text_under_7_points(store, tmp_path, monkeypatch):
    """Every text on every PDF page is at least 7 pt at A4 print size."""
    from matplotlib.text import Text

    from jerklog.exports import report_layout
    sizes = []
    save = report_layout.save

    def checking_save(pdf, fig, plt, core=False):
        sizes.extend(t.get_fontsize() for t in fig.findobj(Text)
                     if t.get_visible() and t.get_text().strip())
        assert tuple(fig.get_size_inches()) == pytest.approx(report_layout.PAGE)
        return save(pdf, fig, plt, core)

    monkeypatch.setattr(report_layout, "save", checking_save)
    info = write_report(store, str(tmp_path / "r.pdf"), T0, END, tz="Europe/Berlin")
    assert len(sizes) > 100 and info["pages"] >= 3
    assert min(sizes) >= 7.0, min(sizes)


def test_html_and_pdf_carry_the_same_content(nights_store, tmp_path):
    """One set of blocks, two renderings: every heading and table header of the HTML file
    is in the PDF's text, and both hold the same charts (the PDF draws them, the HTML
    inlines them)."""
    _need("pdftotext")
    pdf, page = tmp_path / "r.pdf", tmp_path / "r.html"
    write_report(nights_store, str(pdf), N0, NIGHT_END, tz="Europe/Berlin")
    write_report(nights_store, str(page), N0, NIGHT_END, tz="Europe/Berlin")
    source = page.read_text(encoding="utf-8")
    raw = squash(subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True,
                                text=True, check=True).stdout)
    text, words = raw.replace(" ", ""), set(raw.split())
    import html as html_mod
    titles = [html_mod.unescape(t) for t in re.findall(r"<h[123][^>]*>([^<]+)</h[123]>",
                                                       source)]
    heads = [html_mod.unescape(t) for t in re.findall(r"<th[^>]*>([^<]+)</th>", source)]
    assert len(titles) >= 8 and len(heads) >= 30
    for t in titles:
        assert t.replace(" ", "") in text, t
    for h in heads:                   # a PDF cell may wrap its header onto two lines
        assert all(w in words for w in h.split()) or h.replace(" ", "") in text, h
    alts = re.findall(r'<img alt="([^"]+)"', source)
    assert alts[0] == "raster" and {"intervals", "hours", "regions"} <= set(alts)
