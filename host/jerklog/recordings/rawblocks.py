"""The raw CSV's data lines parsed a block at a time with numpy, into exactly the integers the
board's parser gives (jerklog_firmware.rawcsv.parse_row: t in us, mg, 0.1 deg/s, rounded half
away from zero on the first dropped digit).

Only plain blocks are taken: UTF-8 without NUL, every line ending in \\n or \\r\\n, every used
field plain decimal text (a sign, digits, at most one point, spaces or tabs around; no exponent),
every value in the parser's range and the times increasing. For anything else parse_block
returns None and the caller reads the block line by line with the board's parser, which then
gives the same integers or the error with its line number. The arithmetic is integer only, so
nothing depends on float rounding.
"""
from decimal import Decimal

import numpy as np

from jerklog.firmware import rawcsv

# (decimals kept, largest magnitude) per column of rawcsv.COLUMNS: the board's own table
_DECIMALS = np.array([rawcsv._SCALE[c][0] for c in rawcsv.COLUMNS], dtype=np.int64)
_LIMITS = np.array([rawcsv._SCALE[c][1] for c in rawcsv.COLUMNS], dtype=np.int64)
MAX_FIELD = 24  # characters; a longer field (long zero padding) goes line by line
# a digit's worth by its scaled power of ten, clipped to -1..17: 0 below the unit, up to 10**17
# (no int64 overflow when summed; a nonzero digit above is refused before)
_WORTH = np.concatenate([[0], 10 ** np.arange(18, dtype=np.int64)])
_MS2_DECIMALS = 6  # a value in m/s^2 is read in units of 1e-6 m/s^2
_MS2_LARGEST = 10 ** 12  # 1e6 m/s^2, far above the range in g; keeps the products in int64
_NL, _CR, _COMMA, _SPACE, _TAB = 10, 13, 44, 32, 9
_PLUS, _MINUS, _DOT, _ZERO, _NINE = 43, 45, 46, 48, 57


def parse_block(text: str, cols: tuple, last_t: int | None, gravity: str | None = None):
    """Rows (n, 7) int64 of t_us, ax, ay, az (mg), gx, gy, gz (0.1 deg/s; 0 without gyro) for
    the n lines of text, which ends at a line end (or at the end of the file); cols: the
    header's column indexes (rawcsv.parse_header); last_t: the previous sample's t_us.
    gravity: m/s^2 per g as decimal text when ax, ay, az are in m/s^2: divided exactly and
    rounded half to even to 1e-6 g, then to mg, as rawfile's line-by-line reading does. None
    when the block is not plain (see the module's docstring)."""
    try:
        data = text.encode("utf-8")  # a byte that was not UTF-8 (a surrogate) fails here
    except UnicodeEncodeError:
        return None
    if not data or b"\x00" in data:
        return None
    if data[-1] != _NL:
        data += b"\n"  # the last line of a file without a final line end
    a = np.frombuffer(data, dtype=np.uint8)
    nl = np.flatnonzero(a == _NL)
    cr = np.flatnonzero(a == _CR)
    if len(cr) and (cr[-1] + 1 >= len(a) or np.any(a[cr + 1] != _NL)):
        return None  # a lone \r ends a line too (universal newlines): line by line
    n = len(nl)
    starts = np.empty(n, dtype=np.int64)
    starts[0] = 0
    starts[1:] = nl[:-1] + 1
    ends = nl.copy()
    ends[np.flatnonzero(a[np.maximum(nl - 1, 0)] == _CR)] -= 1  # the \r of a \r\n

    # the used fields of each line, left to right: (n, k) start and end offsets
    used = [k for k in range(7) if cols[k] >= 0]
    used.sort(key=lambda k: cols[k])
    idx = np.array([cols[k] for k in used], dtype=np.int64)
    commas = np.flatnonzero(a == _COMMA)
    first = np.searchsorted(commas, starts)  # each line's first comma
    count = np.searchsorted(commas, nl) - first  # commas in each line
    if int(count.min()) < int(idx[-1]):
        return None  # a line lacks a field, or is blank
    last = max(len(commas) - 1, 0)
    fs = np.where(idx == 0, starts[:, None],
                  commas[np.clip(first[:, None] + idx - 1, 0, last)] + 1).ravel()
    fe = np.where(idx < count[:, None],
                  commas[np.clip(first[:, None] + idx, 0, last)], ends[:, None]).ravel()
    if np.any(fe <= fs):
        return None  # an empty field

    # every character of a used field: a digit, a point, or a sign at its start
    mark = np.zeros(len(a) + 1, dtype=np.int32)
    mark[fs] = 1
    field_of = np.cumsum(mark[:-1], dtype=np.int32) - 1  # the field each byte is in (or after)
    mark[fe] -= 1
    inside = np.cumsum(mark[:-1], dtype=np.int32) > 0
    digit = inside & ((a - _ZERO) <= 9)  # uint8: below '0' wraps above 9
    dot = inside & (a == _DOT)
    sign = inside & ((a == _MINUS) | (a == _PLUS))
    if np.count_nonzero(inside) != (np.count_nonzero(digit) + np.count_nonzero(dot)
                                    + np.count_nonzero(sign)):
        return None  # a space, an exponent, a word
    sign_at = np.flatnonzero(sign)
    if np.any(fs[field_of[sign_at]] != sign_at):
        return None  # a sign past a field's start
    dot_at = np.flatnonzero(dot)
    dot_field = field_of[dot_at]
    if np.any(dot_field[1:] == dot_field[:-1]):
        return None  # a second point, as in 1.2.3
    digit_at = np.flatnonzero(digit)
    digit_field = field_of[digit_at]
    digits = np.bincount(digit_field, minlength=len(fs))
    if np.any(digits == 0):
        return None  # "-", "."

    # each digit's power of ten once scaled to its column's unit; the first dropped digit
    # (power -1) rounds half away from zero, as rawcsv.parse_fixed does
    point = fe.copy()
    point[dot_field] = dot_at
    p = point[digit_field]
    column_decimals = _DECIMALS[used]
    acc = np.array([1 <= k <= 3 for k in used])
    if gravity is not None:  # m/s^2 read to 1e-6 exactly: more decimals go line by line
        column_decimals = np.where(acc, _MS2_DECIMALS, column_decimals)
        if np.any((fe - point - 1).reshape(n, len(used))[:, acc] > _MS2_DECIMALS):
            return None
    decimals = np.tile(column_decimals, n)
    power = p - digit_at - (digit_at < p) + decimals[digit_field]
    value = a[digit_at] - _ZERO  # uint8
    if np.any((power > 17) & (value > 0)):
        return None  # far out of range: the board's parser says so
    terms = value * _WORTH[np.clip(power, -1, 17) + 1]
    start = np.zeros(len(fs), dtype=np.int64)
    np.cumsum(digits[:-1], out=start[1:])
    whole = np.add.reduceat(terms, start)
    whole[digit_field[(power == -1) & (value >= 5)]] += 1
    whole = whole.reshape(n, len(used))
    if gravity is not None:
        if np.any(whole[:, acc] > _MS2_LARGEST):
            return None  # far out of range (and int64 products): line by line
        whole[:, acc] = _ms2_to_mg(whole[:, acc], gravity)
    whole = np.where(a[fs].reshape(n, len(used)) == _MINUS, -whole, whole)
    if np.any(np.abs(whole) > _LIMITS[used]):
        return None

    rows = np.zeros((n, 7), dtype=np.int64)
    rows[:, used] = whole
    t = rows[:, 0]
    if (last_t is not None and t[0] <= last_t) or np.any(t[1:] <= t[:-1]):
        return None
    return rows


def _ms2_to_mg(micro, gravity: str):
    """mg of magnitudes in 1e-6 m/s^2 (int64 array): micro / gravity rounded half to even to
    1e-6 g (Decimal.quantize, ROUND_HALF_EVEN), then half up to mg (rawcsv.parse_fixed)."""
    num, den = Decimal(gravity).as_integer_ratio()
    q, r = np.divmod(micro * den, num)  # micro-g = micro * den / num
    q += (2 * r > num) | ((2 * r == num) & (q % 2 == 1))
    return (q + 500) // 1000
