"""One progress line on stderr for long work, rewritten in place on a terminal."""
import sys
import time


class Progress:
    def __init__(self, label, stream=None, every_s=0.5):
        self.label = label
        self.stream = stream or sys.stderr
        self.every_s = every_s
        self._last = 0.0
        self._tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._shown = False

    def update(self, text, force=False):
        now = time.monotonic()
        interval = self.every_s if self._tty else 20 * self.every_s  # a log gets fewer lines
        if not force and now - self._last < interval:
            return
        self._last = now
        if self._tty:
            self.stream.write("\r\033[K%s: %s" % (self.label, text))
        else:
            self.stream.write("%s: %s\n" % (self.label, text))
        self._shown = True
        self.stream.flush()

    def clear(self):
        """Take the line away (a terminal) before the command prints its result on stdout."""
        if self._tty and self._shown:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self._shown = False

    def done(self, text):
        if self._tty and self._shown:
            self.stream.write("\r\033[K")
        self.stream.write("%s: %s\n" % (self.label, text))
        self.stream.flush()
