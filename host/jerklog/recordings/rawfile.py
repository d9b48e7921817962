"""Raw recordings on the host: read and check a raw CSV, write the sim stream and CSVs.

Parsing uses the firmware's own rawcsv module, so the host and the board turn the same text
into the same integers (t in us, acceleration in mg, rotation in 0.1 deg/s); plain blocks of
lines take rawblocks' numpy twin of it, which gives the same integers (tests/test_load.py holds
them equal, errors included). Everything streams: a recording larger than memory is read in
blocks of BLOCK_CHARS characters.
"""
import io
import os
import re
import stat
import struct
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

import numpy as np

from jerklog import JerklogError
from jerklog.firmware import rawcsv
from jerklog.recordings import rawblocks
from jerklog.recordings.recording import Recording, write_raw_csv
from jerklog_firmware import board_sim

CHUNK = 65536  # samples per write
BLOCK_CHARS = 1 << 18  # characters read at a time (~6,000 lines of a 200 Hz six-axis CSV)

UNITS = ("g", "m/s2")  # acceleration units a raw CSV may be in (--units); gyro is deg/s
STANDARD_GRAVITY = "9.80665"  # m/s^2 per g
_STILL_PROBE = 2000  # samples whose median magnitude tells the units
_DECIMAL = re.compile(r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d{1,3})?\s*$")


class _Utf8Lines:
    """The lines of a file opened with errors="surrogateescape": a line holding bytes that
    are not UTF-8 raises ValueError naming that line (a strict decoder fails some 8 KB
    ahead of the line it is reading, so it cannot say where)."""

    def __init__(self, f, line_no=0):
        """line_no: lines of the file before the first one f gives."""
        self._f = f
        self._line_no = line_no

    def readline(self):
        line = self._f.readline()
        if line:
            self._line_no += 1
            try:
                line.encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError("line %d: not UTF-8 text" % self._line_no)
            if "\x00" in line:
                raise ValueError("line %d: not a text file (NUL bytes)" % self._line_no)
        return line


class _InG:
    """The lines of a raw CSV in m/s^2 with ax, ay, az rewritten in g (exact decimals divided
    by 9.80665) before the board's parser reads them, so its range and rounding are those of
    g. Text that is no plain decimal is left for the parser to refuse with its line."""

    _G = Decimal(STANDARD_GRAVITY)
    _STEP = Decimal("0.000001")

    def __init__(self, lines, cols=None):
        """cols: the acceleration columns' indexes, None to take them from the header line."""
        self._lines = lines
        self._cols = cols

    def readline(self):
        line = self._lines.readline()
        if not line:
            return line
        if self._cols is None:
            try:
                self._cols = rawcsv.parse_header(line)[1:4]
            except ValueError:
                self._cols = ()  # the parser says what is wrong with the header
            return line
        body = line.rstrip("\r\n")
        fields = body.split(",")
        for i in self._cols:
            if i < len(fields) and _DECIMAL.match(fields[i]):
                try:
                    g = (Decimal(fields[i].strip()) / self._G).quantize(self._STEP,
                                                                        ROUND_HALF_EVEN)
                except InvalidOperation:  # over 28 digits in g: the parser says out of range
                    continue
                fields[i] = format(g, "f")
        return ",".join(fields) + line[len(body):]


def check_units(path: str, acc_mg, units: str = "g") -> None:
    """Refuse a recording whose acceleration at rest is not about 1 in the units it is read
    in: gravity reads 9.8 in m/s^2 (about 0.1 if a file in g is read as m/s^2). acc_mg: the
    first samples as read (n, 3)."""
    if len(acc_mg) == 0:
        return
    still = float(np.median(np.sqrt(np.sum(np.asarray(acc_mg[:_STILL_PROBE],
                                                      dtype=np.float64) ** 2, axis=1)))) / 1000
    if units == "g" and 7.0 <= still <= 13.0:
        raise JerklogError("%s: acceleration at rest is %.2f (median magnitude of the first "
                           "samples), gravity in m/s^2, not 1 g: give --units m/s2 to convert "
                           "(divided by %s)" % (path, still, STANDARD_GRAVITY))
    if units == "m/s2" and 0.07 <= still <= 0.13:
        raise JerklogError("%s: with --units m/s2 the acceleration at rest is %.2f g "
                           "(median magnitude of the first samples): the file is in g "
                           "already; leave out --units" % (path, still))


def open_raw(path: str, units: str = "g"):
    """Open a raw CSV and return (file, RawReader); errors name the file and line. units:
    the acceleration columns' unit, "g" or "m/s2" (converted to g as read)."""
    if units not in UNITS:
        raise JerklogError("acceleration units %r: give g or m/s2" % (units,))
    try:
        mode = os.stat(path).st_mode
    except OSError:
        mode = None  # open() below says what is wrong
    if mode is not None and not stat.S_ISREG(mode):
        # A named pipe nobody writes would block open() for ever; a folder or a device is no
        # recording either.
        raise JerklogError("%s is not a regular file (a pipe, a device or a folder): give "
                           "a recording file" % path)
    try:
        # surrogateescape: a stray non-UTF-8 byte fails as a bad value on its own line
        f = open(path, "r", encoding="utf-8", errors="surrogateescape", newline="")
    except OSError as e:
        raise JerklogError("cannot read %s: %s" % (path, e.strerror or e))
    try:
        lines = _Utf8Lines(f)
        return f, rawcsv.RawReader(_InG(lines) if units == "m/s2" else lines)
    except ValueError as e:
        f.close()
        raise JerklogError("%s: %s" % (path, e))


def iter_rows(path, units="g"):
    """Yield (reader, chunk) pairs: chunk is an int64 array (n, 7) of t_us, ax..gz (mg, 0.1
    deg/s), one per block read. units: see open_raw; a recording whose gravity says
    otherwise is refused."""
    f, reader = open_raw(path, units)
    with f:
        probe = []  # the rows the reader read ahead to tell the rate
        while len(probe) < rawcsv.RATE_PROBE:
            row = reader.next_row()
            if row is None:
                break
            probe.append(row)
        head = [np.array(probe, dtype=np.int64).reshape(-1, 7)]
        blocks = _blocks(path, f, reader, units, probe[-1][0])
        while sum(len(c) for c in head) < _STILL_PROBE:  # they tell the units
            try:
                more = next(blocks, None)
            except _BadLine as e:  # as line by line: units first if 2000 samples came before
                rows = np.concatenate(head + [e.rows])
                if len(rows) >= _STILL_PROBE:
                    check_units(path, rows[:_STILL_PROBE, 1:4], units)
                raise
            if more is None:
                break
            head.append(more)
        first = np.concatenate(head)
        check_units(path, first[:_STILL_PROBE, 1:4], units)
        yield reader, first
        for chunk in blocks:
            yield reader, chunk


def _blocks(path, f, reader, units, last_t):
    """The rows of the rest of f (after the reader's header and rate probe), a block of
    whole lines at a time: rawblocks' numpy parser where the block is plain, else the
    board's parser line by line (same integers, or the error naming its line)."""
    line_no = reader.line_no
    carry = ""
    while True:
        text = f.read(BLOCK_CHARS)
        eof = not text
        text = carry + text
        if eof:
            carry = ""
        else:
            cut = text.rfind("\n") + 1
            if cut == 0:  # no \n: old Mac line ends (a lone \r), or a very long line
                cut = text.rfind("\r", 0, len(text) - 1) + 1
            carry, text = text[cut:], text[:cut]
        if not text:
            if eof:
                return
            continue
        rows = rawblocks.parse_block(text, reader.cols, last_t,
                                     STANDARD_GRAVITY if units == "m/s2" else None)
        if rows is None:
            rows, line_no = _exact_rows(path, text, reader.cols, line_no, last_t, units)
        else:
            line_no += len(rows)
        if len(rows):
            last_t = int(rows[-1, 0])
            yield rows


class _BadLine(JerklogError):
    """A line the board's parser refuses; rows: the block's rows before it."""

    def __init__(self, message, rows):
        super().__init__(message)
        self.rows = np.array(rows, dtype=np.int64).reshape(-1, 7)


def _exact_rows(path, text, cols, line_no, last_t, units):
    """(rows (n, 7) int64, lines read) of text, whose first line is line line_no + 1, by the
    board's parser line by line, as rawcsv.RawReader reads them (blank lines skipped, times
    increasing after last_t)."""
    lines = _Utf8Lines(io.StringIO(text, newline=""), line_no)
    if units == "m/s2":
        lines = _InG(lines, cols[1:4])
    rows = []
    while True:
        try:
            line = lines.readline()
        except ValueError as e:
            raise _BadLine("%s: %s" % (path, e), rows)
        if not line:
            break
        line_no += 1
        if not line.strip():
            continue
        row = [0, 0, 0, 0, 0, 0, 0]
        try:
            rawcsv.parse_row(line, cols, row)
        except ValueError as e:
            raise _BadLine("%s: line %d: %s" % (path, line_no, e), rows)
        if last_t is not None and row[0] <= last_t:
            raise _BadLine("%s: line %d: t=%s is not after the previous sample"
                           % (path, line_no, line.split(",")[cols[0]].strip()), rows)
        last_t = row[0]
        rows.append(row)
    return np.array(rows, dtype=np.int64).reshape(-1, 7), line_no


def write_stream_header(f, rate_hz, has_gyro):
    f.write(struct.pack(board_sim.STREAM_HEADER, board_sim.STREAM_MAGIC, rate_hz,
                        1 if has_gyro else 0))


def stream_records(t_ms, values):
    """Bytes of sim stream records for t_ms (n,) and values (n, 6) in mg / 0.1 deg/s."""
    rec = np.empty(len(t_ms), dtype=np.dtype([("t", "<i4"), ("v", "<i2", (6,))]))
    rec["t"] = t_ms
    rec["v"] = values
    return rec.tobytes()


def csv_to_stream(csv_path: str, stream_path: str, units: str = "g",
                  max_rate_hz: int | None = None) -> tuple:
    """Check a raw CSV and convert it to a sim stream; return (rate_hz, has_gyro, samples).
    A rate above max_rate_hz (what the board that plays it can run) is refused first."""
    total = 0
    rate = has_gyro = None
    with open(stream_path, "wb") as out:
        for reader, chunk in iter_rows(csv_path, units):
            if rate is None:
                rate, has_gyro = reader.rate_hz, reader.has_gyro
                if max_rate_hz and rate > max_rate_hz:
                    raise JerklogError("%s: sample rate %d Hz is above the %d Hz the simulated "
                                       "board runs in a board's heap; jerklog analyze takes "
                                       "up to 4000 Hz" % (csv_path, rate, max_rate_hz))
                write_stream_header(out, rate, has_gyro)
            t_ms = (chunk[:, 0] - reader.t0_us + 500) // 1000  # rawcsv.to_ms, vectorised
            if t_ms[-1] > 2 ** 31 - 1:
                raise JerklogError("%s: recordings longer than 24 days are not supported"
                                   % csv_path)
            out.write(stream_records(t_ms, chunk[:, 1:]))
            total += len(chunk)
    if rate is None:
        raise JerklogError("%s: no samples" % csv_path)
    return rate, has_gyro, total


class RawSamples:
    """A recording held as integers: t_us (n,), acc_mg (n, 3), gyro_ddps (n, 3) or None."""

    def __init__(self, t_us, acc_mg, gyro_ddps=None):
        self.t_us = np.asarray(t_us, dtype=np.int64)
        self.acc_mg = np.asarray(acc_mg, dtype=np.int64)
        self.gyro_ddps = None if gyro_ddps is None else np.asarray(gyro_ddps, dtype=np.int64)
        if np.any(np.diff(self.t_us) <= 0):
            raise ValueError("sample times must increase")
        self.rate_hz = rawcsv.estimate_rate_hz(
            [int(x) for x in self.t_us[:rawcsv.RATE_PROBE]])

    @classmethod
    def from_units(cls, t_s, acc_g, gyro_dps=None) -> "RawSamples":
        """Quantise seconds, g and deg/s to the integer grid (half away from zero)."""
        def q(x, scale):
            x = np.asarray(x, dtype=np.float64) * scale
            return (np.sign(x) * np.floor(np.abs(x) + 0.5)).astype(np.int64)
        return cls(q(t_s, 1e6), q(acc_g, 1e3), None if gyro_dps is None else q(gyro_dps, 10))

    def __len__(self):
        return len(self.t_us)

    def values(self) -> np.ndarray:
        g = self.gyro_ddps if self.gyro_ddps is not None else np.zeros_like(self.acc_mg)
        return np.hstack([self.acc_mg, g])

    def t_ms(self) -> np.ndarray:
        return (self.t_us - self.t_us[0] + 500) // 1000

    def recording(self, name: str = "samples", source: str = "") -> Recording:
        """The same samples in physical units (s, g, deg/s) as a Recording."""
        return Recording(name, self.t_us / 1e6, self.acc_mg / 1e3,
                         None if self.gyro_ddps is None else self.gyro_ddps / 10.0,
                         self.rate_hz, source)

    def write_csv(self, path: str) -> None:
        """The raw CSV of exactly these integers: t 6 decimals (s), g 3, deg/s 1."""
        write_raw_csv(self.recording(), path, decimals=(6, 3, 1))

    def write_stream(self, path: str) -> None:
        with open(path, "wb") as f:
            write_stream_header(f, self.rate_hz, self.gyro_ddps is not None)
            t_ms = self.t_ms()
            v = self.values()
            for start in range(0, len(self), CHUNK):
                f.write(stream_records(t_ms[start:start + CHUNK], v[start:start + CHUNK]))


def remove_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
