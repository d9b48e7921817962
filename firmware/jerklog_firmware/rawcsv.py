"""Raw recording CSV, parsed exactly into integers on the board and the host alike.

The contract: a header row; columns t (seconds, increasing, any origin), ax, ay, az (g), and
optionally gx, gy, gz (deg/s); other columns are ignored. Values are decimal text, parsed
without floats so MicroPython and CPython get the same integers: t in microseconds,
acceleration in mg, rotation in tenths of deg/s (rounded half away from zero).
"""
REQUIRED = ("t", "ax", "ay", "az")
GYRO = ("gx", "gy", "gz")
COLUMNS = REQUIRED + GYRO
# (decimal places kept, largest magnitude accepted in the scaled unit, unit text)
_SCALE = {"t": (6, 10 ** 15, "s"), "ax": (3, 32000, "g"), "ay": (3, 32000, "g"),
          "az": (3, 32000, "g"), "gx": (1, 32000, "deg/s"), "gy": (1, 32000, "deg/s"),
          "gz": (1, 32000, "deg/s")}


def parse_header(line):
    """Map the header to column indexes: a 7-tuple for COLUMNS, -1 where gyro is absent."""
    if line[:1] == "\ufeff":
        line = line[1:]  # a byte-order mark, as spreadsheet programs write
    names = [n.strip().strip('"').lower() for n in line.strip().split(",")]
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise ValueError("header lacks column(s) %s; need t,ax,ay,az (g) and optionally "
                         "gx,gy,gz (deg/s)" % ",".join(missing))
    gyro = [c for c in GYRO if c in names]
    if gyro and len(gyro) != 3:
        raise ValueError("header has %s but not all of gx,gy,gz" % ",".join(gyro))
    return tuple(names.index(c) if c in names else -1 for c in COLUMNS)


def parse_fixed(text, decimals):
    """Exact decimal text -> int scaled by 10**decimals, rounded half away from zero.

    Accepts 12, -0.5, .25, 1e-3, +3.0E2. Raises ValueError for anything else (nan, inf,
    empty, words).
    """
    s = text.strip()
    neg = False
    if s and (s[0] == "-" or s[0] == "+"):
        neg = s[0] == "-"
        s = s[1:]
    exp = 0
    e = s.find("e")
    if e < 0:
        e = s.find("E")
    if e >= 0:
        tail = s[e + 1:]
        digits = tail[1:] if tail[:1] in ("-", "+") else tail
        if not digits or not digits.isdigit() or len(digits) > 3:
            raise ValueError("not a number")
        exp = int(tail)
        s = s[:e]
    dot = s.find(".")
    if dot >= 0:
        ip = s[:dot]
        fp = s[dot + 1:]
    else:
        ip = s
        fp = ""
    if not (ip or fp) or (ip and not ip.isdigit()) or (fp and not fp.isdigit()):
        raise ValueError("not a number")
    digits = ip + fp
    point = len(ip) + exp + decimals  # digits left of the point once scaled
    if point <= 0:
        whole = ""
        rest = "0" * (-point) + digits
    elif point >= len(digits):
        whole = digits + "0" * (point - len(digits))
        rest = ""
    else:
        whole = digits[:point]
        rest = digits[point:]
    v = int(whole) if whole else 0
    if rest and rest[0] >= "5":
        v += 1
    return -v if neg else v


def parse_row(line, cols, out):
    """Parse one data line into out[0:7] = t_us, ax, ay, az (mg), gx, gy, gz (0.1 deg/s).

    Raises ValueError naming the column and the bad text. Gyro is 0 when absent.
    """
    fields = line.split(",")
    for k in range(7):
        i = cols[k]
        if i < 0:
            out[k] = 0
            continue
        name = COLUMNS[k]
        if i >= len(fields):
            raise ValueError("column %s is missing (row has %d fields)" % (name, len(fields)))
        dec, limit, unit = _SCALE[name]
        try:
            v = parse_fixed(fields[i], dec)
        except ValueError:
            raise ValueError("column %s: %r is not a number" % (name, fields[i].strip()))
        if v > limit or v < -limit:
            raise ValueError("column %s: %s %s is out of range (|%s| <= %s %s expected; "
                             "wrong units?)" % (name, fields[i].strip(), unit, name,
                                                limit // 10 ** dec, unit))
        out[k] = v


def estimate_rate_hz(times_us):
    """Sample rate in Hz (int) from the median interval of a list of times in microseconds."""
    gaps = sorted(times_us[i + 1] - times_us[i] for i in range(len(times_us) - 1))
    if not gaps:
        raise ValueError("need at least two samples to tell the sample rate")
    median = gaps[len(gaps) // 2]
    if median <= 0:
        raise ValueError("times do not increase")
    return (1000000 + median // 2) // median


def to_ms(t_us, t0_us):
    """Time of a sample in ms since the first sample, rounded to the nearest ms."""
    return (t_us - t0_us + 500) // 1000


RATE_PROBE = 65  # samples read ahead to estimate the rate (64 intervals)


class RawReader:
    """Reads a raw CSV line by line; yields samples as ints; checks order and values.

    Errors raise ValueError with 'line N: ...'. The rate comes from the first RATE_PROBE
    samples, which are buffered, so it is known before the first sample is handed out.
    """

    def __init__(self, stream):
        self._f = stream
        self.line_no = 1
        header = stream.readline()
        if not header:
            raise ValueError("line 1: file is empty (expected a header t,ax,ay,az,...)")
        if isinstance(header, bytes):
            raise ValueError("open the file in text mode")
        try:
            self.cols = parse_header(header)
        except ValueError as e:
            raise ValueError("line 1: %s" % e)
        self.has_gyro = self.cols[4] >= 0
        self._ahead = []
        self._last_t = None
        self.t0_us = None
        while len(self._ahead) < RATE_PROBE:
            row = self._read()
            if row is None:
                break
            self._ahead.append(row)
        if len(self._ahead) < 2:
            raise ValueError("line %d: need at least two samples" % self.line_no)
        self.t0_us = self._ahead[0][0]
        rate = estimate_rate_hz([r[0] for r in self._ahead])
        if rate < 25 or rate > 4000:
            raise ValueError("sample rate %d Hz (from column t) is outside 25..4000 Hz; "
                             "is t in seconds?" % rate)
        self.rate_hz = rate

    def _read(self):
        while True:
            line = self._f.readline()
            if not line:
                return None
            self.line_no += 1
            if line.strip():
                break
        row = [0, 0, 0, 0, 0, 0, 0]
        try:
            parse_row(line, self.cols, row)
        except ValueError as e:
            raise ValueError("line %d: %s" % (self.line_no, e))
        if self._last_t is not None and row[0] <= self._last_t:
            raise ValueError("line %d: t=%s is not after the previous sample"
                             % (self.line_no, line.split(",")[self.cols[0]].strip()))
        self._last_t = row[0]
        return row

    def next_row(self):
        """Next sample as [t_us, ax, ay, az, gx, gy, gz], or None at the end."""
        if self._ahead:
            return self._ahead.pop(0)
        return self._read()
