"""The activity epochs around a candidate, as judgement features (issue 12, item 3).

A board sums every 5 s of its samples into an epoch (docs/protocol.md): samples seen, the mean
gravity vector (mg), the RMS of the 100 ms peaks of |dynamic acceleration| and its largest
value (mg). The epoch holding the candidate is left out (the candidate is in it); the one
before and the one after say how active the wearer was around it, and the turn of gravity
between them whether the posture changed (sitting down, turning over, a limb raised).
"""
import math

import numpy as np

EPOCH_MS = 5000
EPOCH_NAMES = ("e_before_log_rms", "e_after_log_rms", "e_posture_turn")


class Epochs:
    """One sensor's epochs (dicts with t_ms, the device ms of the first sample, gx_mg, gy_mg,
    gz_mg, peak_rms_mg), on the same clock as its candidates' t_ms."""

    def __init__(self, epochs):
        rows = sorted(epochs, key=lambda e: e["t_ms"])
        self.t = np.array([e["t_ms"] for e in rows], dtype=np.float64)
        self.rms = np.array([max(e["peak_rms_mg"] or 0, 1) for e in rows], dtype=np.float64)
        g = np.array([[e["gx_mg"], e["gy_mg"], e["gz_mg"]] for e in rows], dtype=np.float64)
        self.g = g.reshape(-1, 3)

    def __len__(self):
        return len(self.t)

    def features(self, t_ms: float) -> tuple:
        """EPOCH_NAMES at a candidate's t_ms: log10 of the RMS (mg, floor 1) of the epoch
        before and after the one holding it, and the angle (units of 90 degrees) between the
        mean gravity of those two. (0, 0, 0) where an epoch is missing."""
        if not len(self.t):
            return 0.0, 0.0, 0.0
        k = int(np.searchsorted(self.t, t_ms, "right")) - 1
        before = k - 1 if k >= 1 and t_ms - self.t[k] < EPOCH_MS else -1
        after = k + 1 if 0 <= k + 1 < len(self.t) and self.t[k + 1] - t_ms < 2 * EPOCH_MS \
            else -1
        rb = math.log10(self.rms[before]) if before >= 0 else 0.0
        ra = math.log10(self.rms[after]) if after >= 0 else 0.0
        turn = 0.0
        if before >= 0 and after >= 0:
            a, b = self.g[before], self.g[after]
            na, nb = np.linalg.norm(a), np.linalg.norm(b)
            if na > 0 and nb > 0:
                turn = math.degrees(math.acos(float(np.clip(a @ b / (na * nb), -1, 1)))) / 90
        return rb, ra, turn
