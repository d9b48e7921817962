"""Commands from the host: read without blocking, decoded with the shared protocol.

Anything on the line that is not a valid command frame (REPL keystrokes, noise, frames for
another device) is ignored: the board only does what the protocol defines.
"""
import select

from . import protocol

LINE_MAX = 96  # a command line is 71 bytes; longer lines are noise


class CommandReader:
    def __init__(self, stream, device_id):
        self._stream = stream
        self._device_id = device_id
        self._poll = select.poll()
        self._poll.register(stream, select.POLLIN)
        self._line = bytearray()
        self.closed = False  # the host hung up (end of file on the line)

    def next(self, timeout_ms=0):
        """The next command addressed to this device (a record dict), or None.

        Waits at most timeout_ms for the first byte; never blocks otherwise. Commands are
        text lines (see protocol.command_frame); other lines are ignored.
        """
        wait = timeout_ms
        while True:
            ready = False
            for _ in self._poll.ipoll(wait):  # ipoll: no list allocated per call
                ready = True
            if not ready:
                return None
            wait = 0
            b = self._stream.read(1)
            if not b:
                self.closed = True
                return None
            if b[0] != 10:  # not yet a newline
                if len(self._line) < LINE_MAX:
                    self._line.extend(b)
                continue
            line = self._line
            self._line = bytearray()
            rec = protocol.decode_command_line(bytes(line)) if line else None
            if rec and rec["device_id"] in (0, self._device_id):
                return rec
