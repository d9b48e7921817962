"""Ingest: decoded records -> store rows. Idempotent on (device, boot, seq); tracks each boot
(clock model, sequence gaps, losses) and maps device uptime to UTC. No I/O of its own: the
recorder loop (recorder.py) gives it records and commits the store around them.
"""
import time

from jerklog import evidence as ev
from jerklog.boards.clock import ClockModel
from jerklog.events import from_wire
from jerklog.firmware import protocol
from jerklog.localtime import EARLIEST_MS, LATEST_MS

HEARTBEAT_KEEP_MS = 60000  # store one heartbeat a minute per boot (and every change in drops)
GAP_LIST_MAX = 10000       # a longer gap in seqs is counted, not listed
RATE_RANGE_HZ = (25, 4000)  # what the detector takes (detector.Detector)


def now_ms():
    return int(time.time() * 1000)


class BootState:
    """What the host knows about one (device, boot): its clock mapping and counters."""

    def __init__(self):
        self.region = None
        self.has_gyro = True
        self.epoch_ms = None      # Unix ms at uptime 0
        self.clock = None         # 'device' or 'host'
        self.last_seq = None      # highest seq seen (this session or stored before)
        self.live_high = None     # highest seq received live this session (not from a dump)
        self.missing = set()      # seqs below it that never arrived (gaps; filled ones leave)
        self.missing_more = 0     # gaps too long to list one by one
        self.newest = True        # the record being handled is the newest of its boot
        self.model = ClockModel()  # host-measured offset and drift of the board's clock
        self.virtual = False       # the hello said: simulated time, do not measure
        self.uptime_high = None    # the largest unwrapped uptime seen, ms
        self.kept_minute = None    # the minute and drop count of the last stored heartbeat
        self.kept_dropped = None
        self.refused_hello = False  # its last hello was refused: so are its records

    def unwrap(self, uptime_ms):
        """A u32 uptime from the wire (it wraps after 49.7 days) as ms since boot: the
        value nearest the largest uptime seen, so wraps and slightly older values both map
        right."""
        high = self.uptime_high
        if high is None:
            self.uptime_high = uptime_ms
            return uptime_ms
        full = (high & ~0xFFFFFFFF) | uptime_ms
        if full > high + (1 << 31):
            full -= 1 << 32
        elif full < high - (1 << 31):
            full += 1 << 32
        if full > high:
            self.uptime_high = full
        return full

    def saw_live(self, seq):
        """Track gaps in the live stream; memory grows with the gaps, not the records."""
        high = self.live_high
        if high is None or seq == high + 1:
            self.live_high = seq
        elif seq > high + 1:
            if seq - high - 1 <= GAP_LIST_MAX:
                self.missing.update(range(high + 1, seq))
            else:
                self.missing_more += seq - high - 1
            self.live_high = seq
        else:
            self.missing.discard(seq)  # a late record fills its gap

    @property
    def lost(self):
        """Records missing from the live stream: seqs that never arrived between the first
        and the latest received live (a gap filled later is not lost)."""
        return len(self.missing) + self.missing_more


class Ingest:
    """Turns decoded records into store rows. Idempotent; counts what it saw."""

    def __init__(self, store, clock=now_ms, raw_sink=None):
        self.store = store
        self.raw_sink = raw_sink  # rawstream.RawSink for raw-mode waveforms, or None
        self.clock = clock
        self.boots = {}
        self.new_events = 0
        self.duplicate_events = 0
        self.goodbyes = 0
        self.hellos = 0
        self.replaying = False  # a log dump is arriving: seq gaps there are not losses
        self.dumps = []         # LOG_STATUS records of finished dumps, for the port to ack
        self.log_status = {}    # device_id -> its last LOG_STATUS record
        self.last_heartbeat = {}  # device_id -> host ms of its last heartbeat
        self.new_candidates = 0   # evidence joined whole (every candidate the board judged)
        self.new_epochs = 0
        self.refused = {}         # why -> records refused as implausible (refuse())

    def _boot(self, rec, host_ms):
        key = (rec["device_id"], rec["boot_id"])
        st = self.boots.get(key)
        if st is None:
            st = self.boots[key] = BootState()
            row = self.store.boot_state(*key)
            if row:  # a boot heard before this session: keep its clock mapping and counters
                st.region, gyro, st.epoch_ms, st.clock, st.last_seq = row
                st.has_gyro = gyro is None or bool(gyro)
            self.store.upsert_boot(key[0], key[1], host_ms)
        seq = rec["seq"]
        # During a log dump, replayed records (older seqs, or boots not heard live) are not
        # part of the live stream; live records keep arriving meanwhile and are.
        if not self.replaying or (st.live_high is not None and seq > st.live_high):
            st.saw_live(seq)
        st.newest = st.last_seq is None or seq >= st.last_seq
        if st.newest:
            st.last_seq = seq
        return key, st

    def _host_clock(self, st, key, host_ms, uptime_ms):
        """Feed the host's measurement of the board's clock (offset and drift, see clock.py)
        and keep the boot's epoch (UTC ms at uptime 0) current. A live board is always
        measured, even with a clock of its own (set by us, drifting); only a simulator that
        plays faster than real time is taken at its word."""
        if st.virtual:
            return
        corrections = st.model.corrections
        st.model.add(uptime_ms, host_ms)
        self.store.add_clock_anchor(key[0], key[1], uptime_ms, host_ms - uptime_ms)
        if st.model.corrections != corrections:  # recorded, not hidden
            self.store.add_clock_correction(key[0], key[1], host_ms, uptime_ms,
                                            st.model.last_shift_ms)
        epoch = st.model.to_host_ms(0)
        if st.epoch_ms is None or abs(epoch - st.epoch_ms) >= 1:
            st.epoch_ms = epoch
            st.clock = "host"
            self.store.upsert_boot(key[0], key[1], host_ms, epoch_ms=epoch, clock="host")

    def utc_ms(self, st, t_ms):
        """UTC ms of device uptime t_ms for a boot: the host's drift-corrected measurement of
        a live board; else the board's own clock (set by a host earlier, an RTC, or a
        simulator's --start); else a provisional host estimate."""
        if st.model.known and not st.virtual:
            return st.model.to_host_ms(t_ms)
        return st.epoch_ms + t_ms

    def refuse(self, why):
        """Count a record refused as implausible (it passed the CRC but cannot be true)."""
        self.refused[why] = self.refused.get(why, 0) + 1

    def _implausible(self, rec, st):
        """Why a record cannot be stored as it is, or None. A hello of another protocol or
        an impossible rate says the board is not speaking our language: its records until a
        good hello are refused too, so nothing from it is misread."""
        kind = rec["type"]
        if kind == "hello":
            if rec["protocol"] != protocol.PROTOCOL_VERSION:
                return "hello of protocol %d (this host speaks %d)" % (
                    rec["protocol"], protocol.PROTOCOL_VERSION)
            if not RATE_RANGE_HZ[0] <= rec["rate_hz"] <= RATE_RANGE_HZ[1]:
                return "hello at %d Hz (boards run %d-%d Hz)" % ((rec["rate_hz"],)
                                                                 + RATE_RANGE_HZ)
            return None
        if st.refused_hello and kind in ("event", "evidence", "epoch", "heartbeat", "goodbye"):
            return "record of a board whose hello was refused"
        return None

    def _check_time(self, st, t_ms):
        """The UTC ms of uptime t_ms, or None when it falls outside 1985-2084 (a board's
        clock set wrong: its events cannot be placed, so they are refused, not stored)."""
        time_ms = self.utc_ms(st, t_ms)
        return time_ms if EARLIEST_MS <= time_ms < LATEST_MS else None

    def _place(self, st, key, host_ms, rec):
        """(unwrapped uptime ms, UTC ms) of a timed record; UTC None (and the record
        counted as refused) when it falls outside 1985-2084."""
        t_ms = st.unwrap(rec["t_ms"])
        self._ensure_epoch(st, key, host_ms, t_ms)
        time_ms = self._check_time(st, t_ms)
        if time_ms is None:
            self.refuse("%s outside 1985-2084" % rec["type"])
        return t_ms, time_ms

    def _ensure_epoch(self, st, key, host_ms, t_ms):
        """Before any heartbeat or hello: a record arrived just after device time t_ms."""
        if st.epoch_ms is None and not st.model.known:
            st.epoch_ms = host_ms - t_ms
            st.clock = "host"
            self.store.upsert_boot(key[0], key[1], host_ms, epoch_ms=st.epoch_ms, clock="host")

    def handle(self, rec, host_ms=None):
        if rec["type"] == "command":
            return  # our own request echoed back: not a device
        host_ms = self.clock() if host_ms is None else host_ms
        key, st = self._boot(rec, host_ms)
        kind = rec["type"]
        store = self.store
        why = self._implausible(rec, st)
        if why:
            if kind == "hello":
                st.refused_hello = True
            self.refuse(why)
            return
        if kind == "hello":
            st.refused_hello = False
            if rec["epoch_ms"] and not EARLIEST_MS <= rec["epoch_ms"] < LATEST_MS:
                self.refuse("hello with a clock outside 1985-2084 (taken as unknown)")
                rec = dict(rec, epoch_ms=0)
            self.hellos += 1
            st.region = rec["region"]
            st.has_gyro = bool(rec["flags"] & protocol.FLAG_GYRO)
            st.virtual = bool(rec["flags"] & protocol.FLAG_VIRTUAL_CLOCK)
            if rec["epoch_ms"] and (st.virtual or not st.model.known):
                st.epoch_ms = rec["epoch_ms"]
                st.clock = "device"
            store.upsert_boot(key[0], key[1], host_ms, firmware=rec["firmware"],
                              board=rec["board"], sensor=rec["sensor"], region=rec["region"],
                              rate_hz=rec["rate_hz"], has_gyro=int(st.has_gyro),
                              epoch_ms=st.epoch_ms, clock=st.clock, last_seq=st.last_seq)
        elif kind == "event":
            t_ms, time_ms = self._place(st, key, host_ms, rec)
            if time_ms is None:
                return
            values = from_wire(rec, st.has_gyro)
            if store.add_event(key[0], key[1], rec["seq"], t_ms, time_ms, values):
                self.new_events += 1
            elif not self.replaying:  # a log dump holds the events sent live too: expected
                self.duplicate_events += 1
        elif kind == "evidence":
            head = None
            if rec["part"] == 0:
                t_ms, time_ms = self._place(st, key, host_ms, rec)
                if time_ms is None:
                    return
                head = ev.head_of(rec, t_ms, time_ms, st.has_gyro)
            if store.add_evidence_part(key[0], key[1], rec["seq"], rec["cand"], rec["part"],
                                       rec["last"], head, rec["wave"]):
                self.new_candidates += 1
        elif kind == "epoch":
            t_ms, time_ms = self._place(st, key, host_ms, rec)
            if time_ms is None:
                return
            if store.add_epoch(key[0], key[1], t_ms, rec["seq"], time_ms, rec["samples"],
                               rec["gx_mg"], rec["gy_mg"], rec["gz_mg"], rec["peak_rms_mg"],
                               rec["max_mg"]):
                self.new_epochs += 1
        elif kind == "raw":
            if self.raw_sink is not None:
                self.raw_sink.write(rec)
        elif kind == "log_status":
            self.log_status[key[0]] = rec
            if rec["capacity_bytes"]:
                store.set_board_log(key[0], host_ms, rec["dropped"], rec["pending"],
                                    rec["used_bytes"], rec["capacity_bytes"])
            if rec["reason"] == protocol.LOG_DUMPED:
                self.replaying = False
                self.dumps.append(rec)
        elif kind in ("heartbeat", "goodbye"):
            rec = dict(rec, uptime_ms=st.unwrap(rec["uptime_ms"]))
            self._host_clock(st, key, host_ms, rec["uptime_ms"])
            self.last_heartbeat[key[0]] = host_ms
            minute = rec["uptime_ms"] // HEARTBEAT_KEEP_MS
            if kind == "goodbye" or minute != st.kept_minute or rec["dropped"] != st.kept_dropped:
                store.add_heartbeat(key[0], key[1], rec["seq"], host_ms, rec["uptime_ms"],
                                    rec["samples"], rec["dropped"], rec["events"])
                st.kept_minute, st.kept_dropped = minute, rec["dropped"]
            if not st.newest:
                return  # an old heartbeat again (a replay): the stored counters are newer
            fields = dict(last_seq=st.last_seq, uptime_ms=rec["uptime_ms"],
                          samples=rec["samples"], dropped=rec["dropped"], events=rec["events"])
            if kind == "goodbye":
                self.goodbyes += 1
                fields["ended"] = {protocol.GOODBYE_END_OF_RECORDING: "end of recording",
                                   protocol.GOODBYE_STOPPED: "stopped"}.get(rec["reason"],
                                                                            "unknown")
            store.upsert_boot(key[0], key[1], host_ms, **fields)

    @property
    def lost_records(self):
        return sum(st.lost for st in self.boots.values())
