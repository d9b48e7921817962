"""The raw CSV read in blocks (rawfile.iter_rows, with rawblocks' numpy parser where a block is
plain) gives exactly what the board's parser gives read line by line (rawcsv.RawReader): the
same integers, or the same error with the same line number."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jerklog import JerklogError
from jerklog.firmware import rawcsv
from jerklog.recordings import rawblocks, rawfile


def line_by_line(path, units="g"):
    """The reader as it was before blocks: every row through RawReader.next_row, the units
    told after the first 2000 samples (reference for iter_rows)."""
    f, reader = rawfile.open_raw(path, units)
    rows = []
    with f:
        while True:
            if len(rows) == rawfile._STILL_PROBE:
                rawfile.check_units(path, np.array(rows)[:, 1:4], units)
            try:
                row = reader.next_row()
            except ValueError as e:
                raise JerklogError("%s: %s" % (path, e))
            if row is None:
                break
            rows.append(row)
    if len(rows) < rawfile._STILL_PROBE:
        rawfile.check_units(path, np.array(rows).reshape(-1, 7)[:, 1:4], units)
    return np.array(rows, dtype=np.int64).reshape(-1, 7)


def in_blocks(path, units="g"):
    chunks = [c.copy() for _, c in rawfile.iter_rows(path, units)]
    return np.concatenate(chunks) if chunks else np.zeros((0, 7), dtype=np.int64)


def outcome(read, path, units="g"):
    """('rows', array) or ('error', message) of a reader."""
    try:
        return "rows", read(path, units)
    except JerklogError as e:
        return "error", str(e)


def assert_same(path, units="g"):
    want = outcome(line_by_line, path, units)
    got = outcome(in_blocks, path, units)
    assert got[0] == want[0], (got, want)
    if want[0] == "rows":
        np.testing.assert_array_equal(got[1], want[1])
    else:
        assert got[1] == want[1]
    return want


# values as text: plain ones in every form the parser takes, and text it refuses
WEIRD = ["", " ", "1e3", "1E-2", "-2.5e+1", "1e0005", "nan", "inf", "-", "+", ".", "+.5", "5.",
         "-.5", "1.2.3", "--1", "+-1", "\t2", " 0.5", "0.5 ", "0 .5", "0x10", "\u0663",
         "\u00b2", "0000000000000000000000000001.5", "00000000000000000000000000000000000",
         "99999999", "32.0005", "32.0004999", "-32.0005", "1_0", "1,", '"1"', "\x0b1",
         "1\r", "\xe9", "9" * 30, "0.0005", "-0.0005", "0.00049999999", "12.34567890123"]


@st.composite
def number(draw, scale):
    """Decimal text of a value about scale in size, 0-8 decimals, any sign form."""
    decimals = draw(st.integers(0, 8))
    units = draw(st.integers(-int(scale * 10 ** decimals), int(scale * 10 ** decimals)))
    sign = "-" if units < 0 else draw(st.sampled_from(["", "", "+"]))
    whole, frac = divmod(abs(units), 10 ** decimals)
    text = str(whole) if decimals == 0 else "%d.%0*d" % (whole, decimals, frac)
    if text.startswith("0.") and draw(st.booleans()):
        text = text[1:]  # ".25"
    return sign + text


@st.composite
def recording(draw, acc_scale=2):
    """Bytes of a raw CSV: mostly plain rows, some cells, lines and line ends damaged;
    acceleration up to about acc_scale in size (2 g, or 20 m/s^2)."""
    gyro = draw(st.booleans())
    names = ["t", "ax", "ay", "az"] + (["gx", "gy", "gz"] if gyro else [])
    extra = draw(st.sampled_from([[], ["note"], ["x", "y"]]))
    columns = names + extra
    order = draw(st.permutations(range(len(columns))))
    columns = [columns[i] for i in order]
    n = draw(st.integers(2, 200))
    step_us = draw(st.sampled_from([5000, 10000, 2404, 1200]))
    t_decimals = draw(st.integers(3, 8))
    start = draw(st.integers(0, 10 ** 6))
    lines = []
    for i in range(n):
        t = start + i * step_us
        cells = {"t": "%d.%06d%s" % (t // 10 ** 6, t % 10 ** 6, "0" * (t_decimals - 6))
                 if t_decimals >= 6 else "%.*f" % (t_decimals, t / 1e6)}
        for c in names[1:]:
            cells[c] = draw(number(acc_scale if c.startswith("a") else 500))
        for c in extra:
            cells[c] = draw(st.sampled_from(["", "ok", "a b", '"q"', "\xe9t\xe9"]))
        lines.append([cells[c] for c in columns])
    for _ in range(draw(st.integers(0, 3))):  # damaged cells
        i = draw(st.integers(0, n - 1))
        j = draw(st.integers(0, len(columns) - 1))
        lines[i][j] = draw(st.sampled_from(WEIRD))
    text_lines = [",".join(cells) for cells in lines]
    for _ in range(draw(st.integers(0, 2))):  # blank, short or long lines
        i = draw(st.integers(0, n - 1))
        text_lines.insert(i, draw(st.sampled_from(["", "  ", "\t", "1,2", ",,,,,,,,,,"])))
    if draw(st.integers(0, 9)) == 0:  # a time that does not increase
        i = draw(st.integers(1, n - 1))
        text_lines[i], text_lines[i - 1] = text_lines[i - 1], text_lines[i]
    end = draw(st.sampled_from(["\n", "\n", "\r\n", "\r"]))
    tail = draw(st.sampled_from([end, "", end * 2]))  # a final line end, none, a blank line
    body = ",".join(columns) + end + end.join(text_lines) + tail
    data = body.encode("utf-8")
    damage = draw(st.sampled_from([None, None, None, None, b"\xff", b"\x00", b"\r"]))
    if damage:
        at = draw(st.integers(len(data) // 2, len(data)))
        data = data[:at] + damage + data[at:]
    return data


@settings(max_examples=250, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=recording(), block=st.sampled_from([16, 61, 200, 4096, 1 << 18]))
def test_blocks_give_the_line_by_line_rows_or_errors(tmp_path, monkeypatch, data, block):
    path = tmp_path / "r.csv"
    path.write_bytes(data)
    monkeypatch.setattr(rawfile, "BLOCK_CHARS", block)
    assert_same(str(path))


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=recording(acc_scale=20), block=st.sampled_from([61, 4096, 1 << 18]))
def test_blocks_in_m_s2_give_the_line_by_line_rows_or_errors(tmp_path, monkeypatch, data,
                                                             block):
    """--units m/s2: the exact division by 9.80665 (half to even to 1e-6 g, then to mg) in
    integers gives what the Decimal rewrite of each line gives."""
    path = tmp_path / "r.csv"
    path.write_bytes(data)
    monkeypatch.setattr(rawfile, "BLOCK_CHARS", block)
    assert_same(str(path), "m/s2")


def test_m_s2_values_next_to_a_rounding_edge(tmp_path):
    """Values in m/s^2 whose quotient by 9.80665 lies just either side of half a mg or half
    a micro-g give the line-by-line integers, and the block is taken by numpy."""
    g = 9.80665
    values = []
    for mg in range(-3000, 3000, 7):
        for off in (-1e-6, 0, 1e-6):
            values.append("%.6f" % ((mg + 0.5) * g / 1000 + off))
    # values whose quotient is as close to j mg + 499.5 micro-g as 1e-6 m/s^2 steps allow
    # (0.0022 micro-g): the rounding to 1e-6 g decides their mg
    num, den = 196133, 20000  # 9.80665 = num / den
    j = np.arange(30000, dtype=np.int64)
    micro = (num * (2000 * j + 999)) // (2 * den)  # in 1e-6 m/s^2
    micro = np.concatenate([micro, micro + 1])
    miss = np.abs(2 * (micro * den % num) - num)
    edge = (micro * den // num) % 1000 == 499
    for n in micro[np.argsort(np.where(edge, miss, num))[:200]]:
        values.append("%s%d.%06d" % ("-" if n % 2 else "", n // 10 ** 6, n % 10 ** 6))
    lines = ["t,ax,ay,az"] + ["%d.%06d,%s,%s,9.806650" % (i // 100, i % 100 * 10000, v,
                                                           values[-1 - i])
                              for i, v in enumerate(values)]
    text = "\n".join(lines) + "\n"
    path = tmp_path / "edge.csv"
    path.write_text(text)
    np.testing.assert_array_equal(in_blocks(str(path), "m/s2"), line_by_line(str(path), "m/s2"))
    body = text[text.index("\n") + 1:]
    assert rawblocks.parse_block(body, rawcsv.parse_header(lines[0]), None,
                                 rawfile.STANDARD_GRAVITY) is not None


@pytest.mark.parametrize("text", WEIRD + ["1.5", "-0.0015", "+12", "7.", ".7", "0.0045",
                                          "-31.9995", "32", "32.000", "31.9999"])
@pytest.mark.parametrize("column", [0, 1, 4])
def test_parse_block_is_the_board_parser_or_declines(text, column):
    """Each kind of field text, as a block alone: either the board's integers or None."""
    cols = rawcsv.parse_header("t,ax,ay,az,gx,gy,gz")
    base = ["1.000000", "0.001", "-0.002", "1.000", "0.5", "-0.5", "3.0"]
    fields = list(base)
    fields[column] = text
    line = ",".join(fields) + "\n"
    got = rawblocks.parse_block(line, cols, None)
    row = [0] * 7
    try:
        rawcsv.parse_row(line, cols, row)
    except ValueError:
        assert got is None
        return
    if got is not None:
        assert got.tolist() == [row]


def test_plain_blocks_take_the_numpy_parser(tmp_path):
    """An ordinary export (fixed decimals, \\r\\n or \\n) is parsed without the line-by-line
    path, so the speed of analyze does not hang on a detail of the file."""
    lines = ["t,ax,ay,az,gx,gy,gz"] + ["%d.%06d,%.3f,-0.250,0.968,%.1f,-1.5,+0.3"
                                       % (i // 200, i % 200 * 5000, (i % 7) / 8, i % 11 - 5)
                                       for i in range(5000)]
    for end in ("\n", "\r\n"):
        text = end.join(lines[1:]) + end
        rows = rawblocks.parse_block(text, rawcsv.parse_header(lines[0]), None)
        assert rows is not None and len(rows) == 5000
        path = tmp_path / "plain.csv"
        path.write_text(lines[0] + end + text)
        np.testing.assert_array_equal(in_blocks(str(path)), line_by_line(str(path)))


def test_units_are_told_before_a_bad_line_after_2000_samples(tmp_path):
    """As line by line: a recording in m/s^2 read as g is refused for its units even when a
    bad line comes later in the first block; before 2000 samples the bad line is said."""
    def write(bad_at):
        lines = ["t,ax,ay,az"] + ["%.3f,0.1,0.2,9.81" % (i / 100) for i in range(3000)]
        lines[bad_at] = "x,y,z,w"
        path = tmp_path / ("bad%d.csv" % bad_at)
        path.write_text("\n".join(lines) + "\n")
        return str(path)
    assert "gravity in m/s^2" in assert_same(write(2500))[1]
    assert "line 1000" in assert_same(write(999))[1]
