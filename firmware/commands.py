"""Commands from the host: read without blocking, decoded with the shared protocol.

Anything on the line that is not a valid command frame (REPL keystrokes, noise, frames for
another device) is ignored: the board only does what the protocol defines.
"""
import select

try:
    from . import protocol
except (ImportError, KeyError):
    import protocol


class CommandReader:
    def __init__(self, stream, device_id):
        self._stream = stream
        self._device_id = device_id
        self._poll = select.poll()
        self._poll.register(stream, select.POLLIN)
        self._chunk = bytearray()
        self.closed = False  # the host hung up (end of file on the line)

    def next(self, timeout_ms=0):
        """The next command addressed to this device (a record dict), or None.

        Waits at most timeout_ms for the first byte; never blocks otherwise.
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
            if b[0] != 0:
                if len(self._chunk) < protocol.MAX_FRAME:
                    self._chunk.extend(b)
                continue
            chunk = self._chunk
            self._chunk = bytearray()
            rec = protocol.decode_frame(bytes(chunk)) if chunk else None
            if rec and rec["type"] == "command" and \
                    rec["device_id"] in (0, self._device_id):
                return rec
