"""The recording commands of `jerklog`: simulate (a board in software) and record (real
boards). Both run the same PortRecorder into the store."""
import argparse
import os
import sys
import time

from jerklog import JerklogError, StorageError
from jerklog.cli.common import db_arg, number, open_store, region_type, store_path
from jerklog_firmware.config import DEVICE_ID_MAX


def _notice(progress):
    """A callable that shows one line (the store is locked, then unlocked) on its own."""
    return lambda text: progress.done(text)


def _failure_line(error, new, kept, lost, collect):
    """The one line a storage failure ends with: what failed, what was stored, and what the
    boards still keep (not acknowledged, so the next connection collects it)."""
    text = "%s; %d new events stored" % (error, new)
    if kept is None:
        text += ("; the board was not asked what it keeps (the line was gone), its log keeps "
                 "everything not acknowledged")
    else:
        text += ", %d not stored are kept on the board (not acknowledged)" % kept
    if lost:
        text += ", %d received from a board without a log were not stored (lost)" % lost
    return text + ": %s collects them" % collect


def judge_recorded(store, recorders, boots=()) -> str:
    """After a recording: place what the boards logged between connections by the clock
    measured before and after it (boards.clock.retime_boots), then the host's judgement of
    the evidence not judged yet (jerklog.judge), committed; the words the final line adds.
    A failure here loses nothing (the records are stored; rescore does both later), so it
    is said, not raised."""
    from jerklog.boards.clock import retime_boots
    from jerklog.judge.pipeline import judge_store
    keys = set().union(*(r.ingest.boots for r in recorders)) if recorders else set()
    keys |= set(boots)  # an import's boots (no recorder)
    try:
        with store.writing():
            if not store.begin(wait_s=5.0):
                return "; candidates not judged (another jerklog holds the store): run " \
                       "jerklog rescore"
            retime_boots(store, keys)
            judged, kept = judge_store(store, pending_only=True)
            store.commit()
            counted = store.count_events_judged(keys) if keys else None
    except StorageError as e:
        return "; candidates not judged (%s): run jerklog rescore" % e
    if not judged:
        return ""
    if counted is None:
        return "; the host's judgement of %d candidates found %d jerks" % (judged, kept)
    # what the diary counts of these recordings: the board's events the host kept, and the
    # candidates it added (a boot judged again counts whole, not only its new candidates)
    return ("; after the host's judgement (%d candidates, %d jerks) the diary counts %d "
            "events of %s" % (judged, kept, counted, "this recording" if len(keys) == 1
                              else "these %d recordings" % len(keys)))


# -- simulate ----------------------------------------------------------------------------
def cmd_simulate(args):
    import contextlib
    import threading

    from jerklog.boards.recorder import PortRecorder
    from jerklog.files import refuse_overwrite
    from jerklog.localtime import format_ms, parse_time
    from jerklog.progress import Progress
    from jerklog.recordings import rawfile
    from jerklog.sim import flash
    from jerklog.sim.device import SimDevice

    start_ms = parse_time(args.start, what="--start") if args.start else int(time.time() * 1000)
    if args.units != "g" and not args.raw:
        raise JerklogError("--units is the unit of a --raw recording; a scenario is in g")
    if args.raw and args.devices != 1:
        raise JerklogError("--devices plays generated scenarios; --raw replays one recording")
    if args.save_raw:
        if os.path.exists(args.save_raw) and not os.path.isdir(args.save_raw):
            raise JerklogError("--save-raw %s exists and is not a directory: name a directory "
                               "to keep the raw recording in" % args.save_raw)
        for name in ("raw", "truth", "segments"):
            refuse_overwrite(os.path.join(args.save_raw, name + ".csv"),
                             stores=[store_path(args)], what="--save-raw")
    progress = Progress("simulate")
    from jerklog.files import scratch
    with scratch("simulate") as tmp:  # in the data dir; a killed run's is removed next time
        boards = []  # (region, stream path, device id)
        if args.raw:
            stream = os.path.join(tmp, "recording.jls")
            rate, _, samples = rawfile.csv_to_stream(args.raw, stream, args.units,
                                                     max_rate_hz=SIM_MAX_RATE_HZ)
            boards.append((args.region, stream, args.device_id))
            source = args.raw
        elif args.devices > 1:
            from jerklog.sim.generate import generate_devices
            for k, (label, raw, truth) in enumerate(generate_devices(
                    args.scenario, args.minutes, args.rate, args.seed, args.devices)):
                stream = os.path.join(tmp, "device%d.jls" % (k + 1))
                raw.write_stream(stream)
                boards.append((label, stream, args.device_id + k))
                rate, samples = raw.rate_hz, len(raw)
            source = "scenario %s (seed %d) on %d sensors" % (args.scenario, args.seed,
                                                             args.devices)
        else:
            from jerklog.sim.generate import generate_to_stream
            stream = os.path.join(tmp, "recording.jls")
            rate, samples, saved = generate_to_stream(args.scenario, args.minutes, args.rate,
                                                      args.seed, args.region, stream,
                                                      args.save_raw)
            boards.append((args.region, stream, args.device_id))
            source = "scenario %s (seed %d)" % (args.scenario, args.seed)
            if saved:
                print("raw recording: %s\nground truth: %s" % (saved["raw"], saved["truth"]))
        progress.update("%s: %d samples at %d Hz (%.1f min)"
                        % (source, samples, rate, samples / rate / 60.0), force=True)
        store = open_store(args)
        lock = threading.Lock()
        failed = threading.Event()  # a write into the store failed: every board stops
        devices, recorders, errors, logs = [], [], [], []
        flashes = contextlib.ExitStack()
        try:
            for region, stream, device_id in boards:
                # Each simulated board keeps its on-board log across runs, as on flash: what
                # a failed run could not store is collected by the next one.
                logs.append(flashes.enter_context(flash.board_log(device_id)))
                dev = SimDevice(stream, region=region, device_id=device_id, epoch_ms=start_ms,
                                realtime=args.realtime, log_dir=logs[-1],
                                log_bytes=flash.LOG_BYTES)
                devices.append(dev)
                recorders.append(PortRecorder(
                    dev.port, store, until_goodbye=True, idle_timeout_s=60, lock=lock,
                    alive=lambda d=dev: d.proc.poll() is None, failed=failed,
                    lock_wait_s=args.lock_wait, on_notice=_notice(progress), census=False,
                    on_progress=lambda _r: progress.update("%d events stored" % sum(
                        r.ingest.new_events for r in recorders))))

            def run(rec, dev):
                try:
                    rec.run()
                except StorageError:
                    pass  # rec.store_error, reported below with what the boards keep
                except JerklogError as e:
                    detail = dev.error_text()
                    errors.append("%s%s" % (e, ("\n" + detail) if detail else ""))

            threads = [threading.Thread(target=run, args=(r, d))
                       for r, d in zip(recorders, devices)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            failure = next((r.store_error for r in recorders if r.store_error), None)
            if failure:
                for dev in devices:
                    dev.close()  # the boards stop; their logs keep what was not acknowledged
                stored = set().union(*(r.stored_keys for r in recorders))
                kept = [k for path in logs for k in flash.events_kept(path) if k not in stored]
                before = store.has_events(kept)
                raise StorageError(_failure_line(
                    failure, sum(r.ingest.new_events for r in recorders),
                    len(kept) - (before or 0), 0,
                    "the next simulate with --device-id %s" % ", ".join(
                        str(b[2]) for b in boards)))
            judged = judge_recorded(store, recorders) if not errors else ""
        finally:
            for dev in devices:
                dev.close()
            store.close()
            flashes.close()
        if errors:
            raise JerklogError(errors[0])
        new = sum(r.ingest.new_events for r in recorders)
        old = sum(r.ingest.duplicate_events for r in recorders)
        frames = sum(r.decoder.frames for r in recorders)
        rejected = sum(r.decoder.rejected for r in recorders)
        lost = sum(r.ingest.lost_records for r in recorders)
        refused = sum(sum(r.ingest.refused.values()) for r in recorders)
        progress.done("%d new events (%d already stored) from %s, recorded into %s; "
                      "%d frames, %d rejected chunks, %d records missing%s%s"
                      % (new, old, format_ms(start_ms), store.path, frames, rejected, lost,
                         "; %d implausible records refused" % refused if refused else "",
                         judged))
    return 0


# -- record ------------------------------------------------------------------------------
def cmd_record(args):
    import threading

    from jerklog.boards.recorder import PortRecorder, device_status
    from jerklog.progress import Progress

    ports = args.ports
    from jerklog.boards.port import check_port
    for port in ports:  # a file or a folder would be retried for ever; a missing one waits
        check_port(port, missing_ok=True)
    if not ports:
        from jerklog.boards.discovery import find_boards
        found = find_boards()
        if not found:
            raise JerklogError("no board found by USB id (see hardware/README.md); name the "
                               "port, e.g. jerklog record /dev/ttyACM0")
        for port, name in found:
            print("found %s on %s" % (name, port))
        ports = [port for port, _ in found]
    progress = Progress("record")
    stop = threading.Event()
    failed = threading.Event()  # a write into the store failed: every recorder stops
    lock = threading.Lock()
    # Ctrl-C (and SIGTERM) only ask the loops to stop: each recorder finishes its batch,
    # commits and closes its port, wherever the signal happened to land.
    import signal
    previous = {sig: signal.signal(sig, lambda *_: stop.set())
                for sig in (signal.SIGINT, signal.SIGTERM)}
    with open_store(args) as store:
        recorders = [PortRecorder(port, store, stop=stop, reconnect=True, lock=lock,
                                  failed=failed, lock_wait_s=args.lock_wait,
                                  on_notice=_notice(progress))
                     for port in ports]

        def run(rec):
            try:
                rec.run()
            except JerklogError as e:  # shown on the status line and at the end
                rec.last_error = str(e)

        threads = [threading.Thread(target=run, args=(r,), daemon=True) for r in recorders]
        for t in threads:
            t.start()
        try:
            while not stop.is_set() and not failed.is_set() and \
                    any(t.is_alive() for t in threads):
                with lock:
                    line = device_status(store, recorders)
                progress.update(line + "  (Ctrl-C stops)")
                stop.wait(1.0)
        except KeyboardInterrupt:
            pass
        finally:
            stop.set()
            from jerklog.boards.recorder import DUMP_WAIT_S
            for t in threads:  # after a failure each asks its board what it keeps
                t.join(DUMP_WAIT_S + 5 if failed.is_set() else 5)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        new = sum(r.ingest.new_events for r in recorders)
        failure = next((r.store_error for r in recorders if r.store_error), None)
        if failure:
            counts = [r.on_board for r in recorders]
            raise StorageError(_failure_line(
                failure, new, None if None in counts else sum(counts),
                sum(r.lost_unstored for r in recorders), "the next jerklog record"))
        unstored = sum(r.unstored_events for r in recorders)
        if unstored:  # stopped while the store was locked: the boards keep them
            print("record: %d events received while the store was locked were not stored; "
                  "the boards keep them (not acknowledged) for the next record" % unstored,
                  file=sys.stderr)
        refused = sum(sum(r.ingest.refused.values()) for r in recorders)
        progress.done("stopped; %d new events stored in %s%s%s" % (
            new, store.path, "; %d implausible records refused" % refused if refused else "",
            judge_recorded(store, recorders)))
        failed = [r for r in recorders if r.last_error and not r.ingest.boots]
        for r in failed:
            print("jerklog: error: %s" % r.last_error, file=sys.stderr)
    return 1 if failed and len(failed) == len(recorders) else 0


class _ListScenarios(argparse.Action):
    """--list-scenarios: print each scenario with what it holds, then exit (like --help)."""

    def __init__(self, option_strings, dest, **kwargs):
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        from jerklog.sim.scenario import SCENARIOS  # the generator loads only when asked
        for name, text in SCENARIOS.items():
            print("%-11s %s" % (name, text))
        parser.exit()


# The firmware's evidence ring grows with the rate (12 bytes a sample, copied once when made):
# in a 192 KB heap (sim/device.py) 950 Hz starts, 1000 Hz fails to allocate in some runs
# (longer paths, a fuller log) and 1100 Hz in all (measured). 833 Hz is the board rate below.
SIM_MAX_RATE_HZ = 833

# How long another process may hold the store's write lock before recording stops (the
# boards keep what is not stored). A jerklog writer holds it for milliseconds; minutes mean
# a stuck process or a database browser with a transaction open. A board's log holds days.
LOCK_WAIT_SIMULATE_S = 120.0
LOCK_WAIT_RECORD_S = 600.0


def _lock_wait_arg(p, default):
    def seconds(text):
        import argparse
        try:
            value = float(text)
        except ValueError:
            value = -1.0
        if not 0 <= value <= 86400:
            raise argparse.ArgumentTypeError("%r is not a number of seconds in 0..86400" % text)
        return value
    p.add_argument("--lock-wait", type=seconds, default=default, metavar="SECONDS",
                   help="wait this long for a store locked by another process before stopping "
                   "(default %.0f); what is not stored stays on the board" % default)


def add_subcommands(sub, what):
    """Add `simulate` (what="simulate") or `record` (what="record") to the subparsers."""
    if what == "simulate":
        p = sub.add_parser("simulate", help="run the firmware on a simulated board and record it",
                           description="Run the real firmware under the micropython executable "
                           "with a simulated sensor behind a pseudo-terminal, and record its "
                           "events into the store exactly as from a real board. Replays a raw "
                           "recording (--raw) or a generated scenario (--scenario).")
        src = p.add_mutually_exclusive_group()
        src.add_argument("--raw", metavar="RAW.csv",
                         help="replay a raw recording: columns t (s), ax, ay, az (g), optionally "
                         "gx, gy, gz (deg/s)")
        src.add_argument("--scenario", default="night",
                         help="generate a scenario with known jerks (default: night); "
                         "--list-scenarios prints them")
        from jerklog.cli.analyze import units_arg
        units_arg(p)
        p.add_argument("--list-scenarios", action=_ListScenarios,
                       help="print the scenarios --scenario can generate, and exit")
        p.add_argument("--minutes", type=float, default=None,
                       help="scenario length in minutes (default: the scenario's own)")
        p.add_argument("--seed", type=number(0, 2 ** 32 - 1), default=0,
                       help="scenario random seed, 0..2^32-1 (default 0)")
        # the simulated board's heap bounds a scenario as it bounds a replay (SIM_MAX_RATE_HZ)
        p.add_argument("--rate", type=number(50, SIM_MAX_RATE_HZ), default=100,
                       help="scenario sample rate in Hz, 50..%d (default 100)" % SIM_MAX_RATE_HZ)
        p.add_argument("--region", default="wrist", type=region_type,
                       help="body region the simulated sensor is worn on, as a board's config "
                       "names it (wrist, left_wrist, ankle, trunk, ...; 'left arm' is read as "
                       "left_wrist; default wrist)")
        p.add_argument("--device-id", type=number(1, DEVICE_ID_MAX - 3), default=1,
                       help="simulated device id, 1..%d (default 1; several devices count up "
                       "from it)" % (DEVICE_ID_MAX - 3))
        p.add_argument("--devices", type=number(1, 4), default=1, metavar="N",
                       help="simulate N sensors (1-4) worn at once on left_wrist, "
                       "right_wrist, right_ankle and trunk: the scenario's jerks are seen by "
                       "all (generalised), and each sensor has jerks of its own (focal)")
        p.add_argument("--start", metavar="ISO-TIME",
                       help="wall-clock time of the first sample, ISO 8601 in 1985-2084 "
                       "(default: now); without an offset it is local time")
        p.add_argument("--save-raw", metavar="DIR",
                       help="keep the generated raw CSV, its ground truth and contexts in DIR")
        p.add_argument("--realtime", action="store_true",
                       help="play at the recording's own pace instead of as fast as possible")
        _lock_wait_arg(p, LOCK_WAIT_SIMULATE_S)
        db_arg(p)
        p.set_defaults(func=cmd_simulate)
    else:
        p = sub.add_parser("record", help="record events from the connected boards",
                           description="Find every connected board by its USB id (or use the "
                           "ports given), record from all of them at once until Ctrl-C, "
                           "reconnect when a cable is pulled and put back, and collect what each "
                           "board kept in its on-board log. One status line per device: region, "
                           "events this hour, connected or not, last heartbeat.")
        p.add_argument("ports", nargs="*", metavar="PORT",
                       help="serial ports, e.g. /dev/ttyACM0 or COM3 (default: find boards)")
        _lock_wait_arg(p, LOCK_WAIT_RECORD_S)
        db_arg(p)
        p.set_defaults(func=cmd_record)
