"""Body regions: one table for the whole product, the board's own (firmware config.REGIONS).

A board accepts only these names in its /config.json ("trunk", "wrist", "left_wrist", ...), so
the simulator, the readers of other loggers, the diary and the report use them too. People
and other loggers' files write regions as free text ("Left Wrist", "right arm", "waist");
parse() maps such text onto the table, or says it cannot.

Decisions written down here (hardware/wearing.md shows the places):
- an arm, forearm or hand is the wrist; a shoulder or biceps the upper arm;
- a leg, shin, calf or foot is the ankle; a thigh or knee the thigh;
- a hip, waist, belt, chest, sternum, back or lumbar sensor is on the trunk (it moves with the
  pelvis or spine, not with a limb).
"""
import re

from jerklog import JerklogError
from jerklog_firmware.config import REGIONS

SIDES = ("left", "right")
# Words people use -> the limb or trunk in the board's table (first match wins, so the
# two-word "upper arm" is looked for before "arm").
_WORDS = (
    (("upper arm", "upper_arm", "upperarm", "shoulder", "biceps"), "upper_arm"),
    (("wrist", "forearm", "hand", "arm"), "wrist"),
    (("thigh", "knee"), "thigh"),
    (("ankle", "leg", "shin", "calf", "foot"), "ankle"),
    (("trunk", "hip", "waist", "belt", "chest", "sternum", "back", "lumbar", "torso",
      "pelvis"), "trunk"),
)


def limb(region: str) -> str:
    """The part a region is on, without its side: 'left_wrist' -> 'wrist', 'trunk' -> 'trunk'."""
    for side in SIDES:
        if region.startswith(side + "_"):
            return region[len(side) + 1:]
    return region


def label(region: str) -> str:
    """A region as people write it: 'left_wrist' -> 'left wrist'."""
    return region.replace("_", " ")


def parse(text: str | None, default: str | None = None) -> str:
    """The board's region name for free text ('Left Wrist', 'right arm', 'hip', 'trunk').

    A side ('left', 'right', 'l', 'r') is kept for limbs and dropped for the trunk. Text that
    names no region: `default` if given, else a JerklogError that lists the names."""
    words = re.sub(r"[^a-z]+", " ", (text or "").lower()).split()
    phrase = " ".join(words)
    if phrase.replace(" ", "_") in REGIONS:
        return phrase.replace(" ", "_")
    part = None
    for names, name in _WORDS:
        if any(re.search(r"\b%s\b" % re.escape(w.replace("_", " ")), phrase) for w in names):
            part = name
            break
    if part is None:
        if default is not None:
            return default
        raise JerklogError("unknown body region %r: use one of %s (or words such as 'left arm', "
                           "'waist')" % (text, ", ".join(REGIONS)))
    side = next((s for s in SIDES if s in words or s[0] in words), None)
    if side and part != "trunk":
        return "%s_%s" % (side, part)
    return part


__all__ = ["REGIONS", "SIDES", "label", "limb", "parse"]
