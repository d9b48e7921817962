"""A logger's file played through the board's own loop: the MicroPython program `import` runs.

    micropython -X heapsize=192k import_board.py < SAMPLES > FRAMES

(with the firmware directory in MICROPYPATH; CPython runs it the same way, for the tests'
reference). It is the sim board without the command line: no pty and no host to wait for, as
fast as the interpreter goes, with a virtual clock (the recording's own time), so the frames
are exactly what a board worn with this recording would send.

stdin: one line of JSON (rate_hz, has_gyro, region, device_id, boot_id, epoch_ms, board,
sensor, settings), then batches of BATCH samples, each
    int32 n, int32 dropped        samples in this batch; samples lost so far (bad blocks)
    int32 x BATCH                 device time of each sample, ms since the first sample
    int16 x 6 x BATCH             ax, ay, az (mg), gx, gy, gz (0.1 deg/s)
little-endian, a batch with n = 0 ends the recording. The batches are read with readinto
straight into the loop's own buffers: no per-sample work before the detector.
stdout: protocol frames (hello, events, evidence, epochs, heartbeats, goodbye).
"""
import sys
from array import array

from jerklog_firmware import app, detector, protocol


class StreamBoard:
    """A board whose FIFO is stdin: the BoardLoop's batches arrive already as integers."""

    def __init__(self, stream, cfg):
        self.name = cfg["board"]
        self.sensor = cfg["sensor"]
        self.rate_hz = cfg["rate_hz"]
        self.has_gyro = cfg["has_gyro"]
        self.dropped = 0        # samples the logger lost (bad blocks): sent in heartbeats
        self.finished = False
        self._f = stream
        self._head = array("i", [0, 0])

    def read_into(self, times, samples):
        """Fill times (ms) and samples (six values a sample); return the count."""
        f = self._f
        if f.readinto(self._head) != 8 or self._head[0] == 0:
            self.finished = True
            return 0
        f.readinto(times)
        f.readinto(samples)
        self.dropped = self._head[1]
        return self._head[0]


def main(stdin, stdout):
    import json
    cfg = json.loads(stdin.readline())
    board = StreamBoard(stdin, cfg)
    det = detector.Detector(board.rate_hz, detector.for_region(cfg["settings"], cfg["region"]))
    writer = protocol.FrameWriter(protocol.make_writer(stdout), cfg["device_id"],
                                  cfg["boot_id"])
    loop = app.BoardLoop(board, det, writer, cfg["region"], cfg["epoch_ms"],
                         virtual_clock=True)
    if len(loop.times) != cfg["batch"]:
        raise ValueError("batch %d, the loop reads %d" % (cfg["batch"], len(loop.times)))
    loop.hello()
    while not board.finished:
        loop.step()
    loop.finish()
    loop.heartbeat()
    loop.goodbye(protocol.GOODBYE_END_OF_RECORDING)


if __name__ == "__main__":
    main(sys.stdin.buffer, sys.stdout.buffer)
