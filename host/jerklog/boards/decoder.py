"""Byte stream -> records: splits at zero bytes, checks each frame, never raises on garbage."""
from jerklog.firmware import protocol

# No valid frame is longer than this between delimiters; anything longer is noise.
MAX_CHUNK = protocol.MAX_FRAME


class FrameDecoder:
    """Feed it bytes as they arrive; it returns the valid records and counts the rest.

    Memory stays bounded: at most MAX_CHUNK bytes are held between calls, however long a
    stretch of noise without a zero byte is.
    """

    def __init__(self):
        self._pending = b""
        self._overlong = False   # the pending chunk already overflowed: drop it at the zero
        self.frames = 0          # valid records decoded
        self.rejected = 0        # chunks that were not valid frames (noise, damage, text)
        self.noise_bytes = 0     # bytes in rejected chunks
        self.last_rejected = b""  # the end of the last rejected chunk (a traceback's last line)

    def feed(self, data):
        """Return the list of record dicts completed by data."""
        parts = (self._pending + bytes(data)).split(b"\x00")
        self._pending = parts.pop()
        records = []
        for chunk in parts:
            if self._overlong:
                self._overlong = False
                self._reject(chunk)
                continue
            if not chunk:
                continue  # back-to-back delimiters
            rec = protocol.decode_frame(chunk) if len(chunk) <= MAX_CHUNK else None
            if rec is None:
                self._reject(chunk)
            else:
                self.frames += 1
                records.append(rec)
        if len(self._pending) > MAX_CHUNK:
            self._reject(self._pending)
            self._pending = b""
            self._overlong = True
        return records

    def _reject(self, chunk):
        self.rejected += 1
        self.noise_bytes += len(chunk)
        self.last_rejected = chunk[-300:]
