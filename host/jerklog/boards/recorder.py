"""The recorder loop: reads a board's serial port continuously, decodes frames, hands the
records to ingest.Ingest in batches (one transaction each), asks for and acknowledges the
board's on-board log, and reconnects when a cable is pulled.

The same code reads a real board (/dev/ttyACM0, COM3) and a simulated one (a pty path).
"""
import collections
import threading
import time

import serial

from jerklog import JerklogError, StorageError
from jerklog.boards.decoder import FrameDecoder
from jerklog.boards.ingest import Ingest, now_ms
from jerklog.boards.port import open_port, port_lock
from jerklog.firmware import protocol

DUMP_WAIT_S = 10.0  # a log dump not answered by then is not coming
NOT_JERKLOG_S = 10.0  # bytes but no valid frame for this long: not a jerklog board
DUMP_EVERY_S = 600.0  # while connected, collect and acknowledge the board's log this often,
                      # so events it also sent live do not fill its log
LOCK_WAIT_S = 120.0   # how long another process may hold the store's write lock before the
                      # recording stops (docs/reliability.md); the board keeps what is unstored
LOCK_TRY_S = 0.1      # one attempt at the lock; the port is read between attempts
PENDING_MAX = 20000   # records held in memory while the store is locked; then the port waits


def device_status(store, recorders, now=None):
    """One status text for the devices behind some recorders: region, events this hour
    (by the clock), connected or not, seconds since the last heartbeat."""
    now = now_ms() if now is None else now
    hour = now - now % 3600000
    try:
        counts = store.events_per_device(hour)
    except StorageError:  # a damaged store: the recorders stop and say so; no counts meanwhile
        counts = {}
    parts = []
    for rec in recorders:
        devices = {}
        for (device_id, _), st in rec.ingest.boots.items():
            devices[device_id] = st.region or devices.get(device_id) or "?"
        if not devices:
            state = "waiting for a board" if rec.connected else "not connected"
            if rec.last_error:
                state += " (%s)" % rec.last_error
            parts.append("%s: %s" % (rec.port, state))
        for device_id, region in sorted(devices.items()):
            beat = rec.ingest.last_heartbeat.get(device_id)
            parts.append("%s #%d: %d this hour, %s, heartbeat %s" % (
                region, device_id, counts.get(device_id, 0),
                "connected" if rec.connected else "NOT CONNECTED",
                "%.0f s ago" % ((now - beat) / 1000.0) if beat else "none yet"))
    return " | ".join(parts)


class PortRecorder:
    """Reads one port continuously (a board blocks when nobody reads) into the store.

    reconnect: when the port goes away (a cable pulled) keep trying to open it again and
    carry on; on every (re)connection ask for a hello and for the board's on-board log, so
    what it kept meanwhile is collected. lock: shared by recorders of several ports that
    write into one store.
    """

    def __init__(self, port, store, stop=None, until_goodbye=False, idle_timeout_s=None,
                 on_progress=None, alive=None, reconnect=False, lock=None, retry_s=1.0,
                 raw_sink=None, lock_wait_s=LOCK_WAIT_S, on_notice=None, failed=None,
                 census=True):
        self.port = port
        self.store = store
        self.stop = stop or threading.Event()
        self.until_goodbye = until_goodbye
        self.idle_timeout_s = idle_timeout_s
        self.on_progress = on_progress
        self.alive = alive  # callable: False once the device (a sim process) has gone
        self.reconnect = reconnect
        self.lock = lock or threading.Lock()
        self.retry_s = retry_s
        self.decoder = FrameDecoder()
        self.ingest = Ingest(store, raw_sink=raw_sink)
        self.raw_sink = raw_sink
        self.bytes_read = 0
        self.connected = False
        self.connections = 0    # successful opens
        self.disconnects = 0    # lost lines (cable pulled, board reset)
        self.last_error = None
        self.dump_requests = 0
        self.acked_records = 0  # log records acknowledged to the board
        self._rejected_at_dump = 0
        self._dump_sent = 0.0
        self._final_dump = None  # devices whose log is being emptied at the end
        # Storage faults. Records are stored one batch per transaction and a log dump is
        # acknowledged only after the transaction holding its last record has committed.
        self.lock_wait_s = lock_wait_s
        self.on_notice = on_notice     # callable(text): a line to show (the store is locked)
        self.failed = failed or threading.Event()  # set when a write into the store failed
        self.census = census           # after a failure, ask the board what it still holds
        self.pending = []              # records received, not yet stored
        self.stored_keys = set()       # (device, boot, seq) of events committed this session
        self.store_error = None        # the StorageError that stopped this recorder
        self.locked_since = None       # monotonic time the store was first found locked
        self.locked_s = 0.0            # time spent waiting for another process's lock
        self.on_board = None           # after a failure: events the board keeps, not stored
        self.lost_unstored = 0         # events received, not stored, from a board with no log
        self._dumps_sent, self._dumps_answered = 0, collections.Counter()

    def run(self):
        """Record until stop is set (or, with until_goodbye, the device says goodbye).

        Holds the port's lock (port.port_lock) meanwhile, so `jerklog deploy` refuses to
        take the port from under a recording."""
        with port_lock(self.port, "record"):
            return self._run()

    def _run(self):
        while not self.stop.is_set():
            try:
                ser = open_port(self.port)
            except JerklogError as e:
                if not self.reconnect:
                    raise
                self.last_error = str(e)
                self.stop.wait(self.retry_s)
                continue
            self.connected = True
            self.connections += 1
            try:
                if self._session(ser):
                    break
            except (serial.SerialException, OSError) as e:
                self.disconnects += 1
                self.last_error = "lost port %s: %s" % (self.port, e)
                if not self.reconnect:
                    raise JerklogError(self.last_error)
            finally:
                self.connected = False
                try:
                    if not self.failed.is_set() and self.pending:
                        # Stopped or disconnected while the store was locked: one more try;
                        # what stays unstored is not acknowledged, so the board keeps it.
                        self._store_pending(None, wait_s=2.0, final=True)
                finally:
                    try:
                        ser.close()
                    except (serial.SerialException, OSError):
                        pass
            if self.on_progress:
                self.on_progress(self)
        return self

    @property
    def unstored_events(self):
        """Events received but not in the store (a failed or locked write)."""
        return sum(1 for r in self.pending if r["type"] == "event")

    def _notice(self, text):
        if self.on_notice:
            self.on_notice(text)

    def _fail(self, error):
        """A write into the store failed: stop every recorder of this store."""
        self.store_error = error
        self.last_error = str(error)
        self.failed.set()
        raise error

    def _store_pending(self, ser, wait_s=LOCK_TRY_S, final=False):
        """Store the records received so far in one transaction, then acknowledge the log
        dumps finished in it. False (records kept for the next try) while another process
        holds the store's write lock; a StorageError once writing failed or the lock was
        held past lock_wait_s (then nothing of the batch is stored or acknowledged)."""
        if not self.pending:
            return True
        ingest = self.ingest
        with self.lock:
            if self.failed.is_set():
                return False
            try:
                got = self.store.begin(wait_s)
            except StorageError as e:
                self._fail(e)
            now = time.monotonic()
            if not got:
                if self.locked_since is None:
                    self.locked_since = now
                    self._notice("store locked by another process, waiting (up to %.0f s)..."
                                 % self.lock_wait_s)
                elif now - self.locked_since > self.lock_wait_s and not final:
                    self._fail(StorageError(
                        "the store %s is still locked by another process after %.0f s: stop "
                        "that process (another jerklog, a database browser), then record "
                        "again" % (self.store.path, now - self.locked_since)))
                return False
            if self.locked_since is not None:
                self.locked_s += now - self.locked_since
                self._notice("store unlocked after %.0f s; recording goes on"
                             % (now - self.locked_since))
                self.locked_since = None
            counts = (ingest.new_events, ingest.duplicate_events, ingest.hellos,
                      ingest.goodbyes, len(ingest.dumps))
            keys = []
            try:
                with self.store.writing():
                    for rec in self.pending:
                        ingest.handle(rec)
                        if rec["type"] == "event":
                            keys.append((rec["device_id"], rec["boot_id"], rec["seq"]))
                    if self.raw_sink is not None:
                        self.raw_sink.flush()
                self.store.commit()
            except StorageError as e:
                # Rolled back: count only what is stored, acknowledge nothing of it.
                (ingest.new_events, ingest.duplicate_events, ingest.hellos,
                 ingest.goodbyes, n_dumps) = counts
                del ingest.dumps[n_dumps:]
                self._fail(e)
            self.stored_keys.update(keys)
            if self._final_dump:
                self._follow_final_dump(self.pending)
            self.pending = []
        if ser is not None:
            self._answer_dumps(ser)
        return True

    def _take_census(self, ser):
        """After a failure to store: ask the board for its whole log (nothing is stored or
        acknowledged now) and count the events it keeps that the store lacks."""
        wanted = {d for d, _ in self.ingest.boots} | set(self.ingest.log_status)
        # Dumps asked for before and not finished come first (the board answers in order):
        # what they hold is counted again by the last one, which answers ours.
        earlier = {d: max(0, self._dumps_sent - self._dumps_answered[d]) for d in wanted}
        seen, answered = collections.defaultdict(set), {}
        try:
            ser.write(protocol.command_frame(protocol.CMD_LOG_DUMP, -1))
            deadline = time.monotonic() + DUMP_WAIT_S
            while time.monotonic() < deadline and not (answered and wanted <= set(answered)):
                for rec in self.decoder.feed(ser.read(max(1, ser.in_waiting))):
                    d = rec["device_id"]
                    if rec["type"] == "event":
                        seen[d].add((d, rec["boot_id"], rec["seq"]))
                    elif rec["type"] == "log_status" and rec["reason"] == protocol.LOG_DUMPED:
                        if earlier.get(d, 0) > 0:
                            earlier[d] -= 1  # the end of an earlier dump, not ours
                            seen[d] = set()
                        else:
                            answered[d] = rec
        except (serial.SerialException, OSError):
            return  # the line is gone: nothing to ask
        if not answered:
            return
        keep = set().union(*seen.values()) - self.stored_keys
        with self.lock:
            stored_before = self.store.has_events(keep)  # None if the store cannot tell
        self.on_board = len(keep) - (stored_before or 0)
        no_log = {d for d, st in answered.items() if not st["capacity_bytes"]}
        self.lost_unstored = sum(1 for r in self.pending
                                 if r["type"] == "event" and r["device_id"] in no_log)

    def _session(self, ser):
        """One connection. True when finished (goodbye handled); raises if the line drops."""
        # Ask who is there (a simulated board starts sending on this), then for the records
        # its on-board log holds that no host has acknowledged yet.
        ser.write(protocol.command_frame(protocol.CMD_HELLO))
        ser.write(protocol.command_frame(protocol.CMD_SET_TIME, now_ms()))
        if self.raw_sink is not None:
            ser.write(protocol.command_frame(protocol.CMD_RAW, 1))
        self.dump_requests = 0
        self._dumps_sent, self._dumps_answered = 0, collections.Counter()  # this connection
        self._request_dump(ser)
        try:
            done = self._receive(ser)
        except StorageError:
            if self.census:
                self._take_census(ser)
            raise
        if self.failed.is_set() and self.census:  # another recorder's write failed
            self._take_census(ser)
        return done

    def _receive(self, ser):
        last_data = opened = time.monotonic()
        frames_at_open, bytes_at_open = self.decoder.frames, self.bytes_read
        while not self.stop.is_set() and not self.failed.is_set():
            if len(self.pending) < PENDING_MAX:
                data = ser.read(max(1, ser.in_waiting))
            else:  # the store has been locked for long: let the board wait (it keeps a log)
                data = b""
            if self.ingest.replaying and not self.pending and \
                    time.monotonic() - self._dump_sent > DUMP_WAIT_S:
                self.ingest.replaying = False  # a board without a log never answers
            if not self.ingest.replaying and time.monotonic() - self._dump_sent > DUMP_EVERY_S:
                self.dump_requests = 0
                self._request_dump(ser)
            if data:
                last_data = time.monotonic()
                self.bytes_read += len(data)
                records = self.decoder.feed(data)
                for rec in records:
                    if rec["type"] == "log_status" and rec["reason"] == protocol.LOG_DUMPED:
                        self._dumps_answered[rec["device_id"]] += 1
                self.pending.extend(records)
            if self.pending:
                if self._store_pending(ser) and self.on_progress:
                    self.on_progress(self)
            if self.until_goodbye and self.ingest.goodbyes and not self.pending and \
                    self._closing(ser):
                return True
            if self.decoder.frames == frames_at_open and \
                    time.monotonic() - opened > NOT_JERKLOG_S and \
                    self.bytes_read > bytes_at_open:
                raise JerklogError(
                    "%s sends data but no jerklog frames (%d bytes in %.0f s): is it a "
                    "jerklog board with its firmware running?"
                    % (self.port, self.bytes_read - bytes_at_open, NOT_JERKLOG_S))
            if data or self.pending:  # (the lock bound limits a wait for the store)
                continue
            if self.alive and not self.alive():
                if self.until_goodbye and self.ingest.goodbyes:
                    return True  # it said goodbye, then went before its log was emptied
                raise JerklogError("the device on %s stopped before saying goodbye"
                                   % self.port)
            if self.idle_timeout_s and time.monotonic() - last_data > self.idle_timeout_s:
                raise JerklogError("no data from %s for %.0f s"
                                   % (self.port, self.idle_timeout_s))
        return True

    def _closing(self, ser):
        """After a goodbye: collect and acknowledge what the board's log still holds (the
        events it also sent live), so its log is empty for the next untethered night.
        True when there is nothing more to wait for."""
        if self._final_dump is None:
            self._final_dump = {d: "dump" for d, st in self.ingest.log_status.items()
                                if st["capacity_bytes"]}
            if not self._final_dump:
                return True
            self._request_dump(ser)
            return False
        return all(stage == "done" for stage in self._final_dump.values())

    def _follow_final_dump(self, records):
        """The answers to the final dump, in the order they came: its LOG_DUMPED, then, if
        it held records, the LOG_ACKED of their acknowledgement. An answer to an earlier
        acknowledgement that arrives first (the store was locked and everything came at
        once) is not taken for it."""
        for rec in records:
            if rec["type"] != "log_status":
                continue
            stage = self._final_dump.get(rec["device_id"])
            if stage == "dump" and rec["reason"] == protocol.LOG_DUMPED:
                self._final_dump[rec["device_id"]] = "ack" if rec["records"] else "done"
            elif stage == "ack" and rec["reason"] == protocol.LOG_ACKED:
                self._final_dump[rec["device_id"]] = "done"

    def _request_dump(self, ser):
        self._dumps_sent += 1
        self.ingest.replaying = True
        self._dump_sent = time.monotonic()
        self._rejected_at_dump = self.decoder.rejected
        self.dump_requests += 1
        ser.write(protocol.command_frame(protocol.CMD_LOG_DUMP, -1))

    def _answer_dumps(self, ser):
        """Acknowledge a finished dump once its records are committed to the store, so the
        board may trim its log; ask again if a damaged frame may have been part of it."""
        while self.ingest.dumps:
            status = self.ingest.dumps.pop(0)
            if status["records"] == 0:
                continue
            if self.decoder.rejected != self._rejected_at_dump and self.dump_requests < 3:
                self._request_dump(ser)  # something on the line was damaged: dump again
                continue
            ser.write(protocol.command_frame(
                protocol.CMD_LOG_ACK, protocol.log_cursor(status["last_boot"],
                                                          status["last_seq"]),
                device_id=status["device_id"]))
            self.acked_records += status["records"]
