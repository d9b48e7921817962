"""Generated scenarios as the simulator and the benchmark use them: quantised to the integer
grid the board sees, written as a sim stream, and (optionally) kept as CSV with their truth."""
import os

from . import JerklogError
from .paths import private_dir
from .rawfile import RawSamples

# Words in a body-region label -> the motion model the generator has for it.
_REGION_WORDS = (
    (("upper arm", "upper_arm", "shoulder", "biceps"), "upper_arm"),
    (("wrist", "hand", "forearm", "arm"), "wrist"),
    (("thigh", "hip"), "thigh"),
    (("ankle", "foot", "shin", "leg", "calf"), "ankle"),
    (("trunk", "chest", "sternum", "back", "torso", "waist"), "trunk"),
)


def motion_region(label):
    """The generator's region model for a free-text body region ('left arm' -> 'wrist')."""
    text = label.lower().replace("-", " ")
    for words, region in _REGION_WORDS:
        if any(w in text for w in words):
            return region
    raise JerklogError("no motion model for region %r: name a wrist, arm, upper arm, "
                       "ankle, leg, thigh or trunk" % label)


def generate(name, minutes, rate_hz, seed, region_label, sensor="LSM6DSOX"):
    """Generate a scenario; return (Scenario, RawSamples on the board's integer grid)."""
    from . import scenario
    if name not in scenario.SCENARIOS:
        raise JerklogError("unknown scenario %r; choose from %s"
                           % (name, ", ".join(scenario.SCENARIOS)))
    if not 50 <= rate_hz <= 1000:
        raise JerklogError("--rate %d Hz is outside 50..1000 Hz" % rate_hz)
    if minutes is not None and not 0.5 <= minutes <= 24 * 60:
        raise JerklogError("--minutes %g is outside 0.5..1440" % minutes)
    scn = scenario.generate(name, minutes=minutes, rate_hz=rate_hz, seed=seed,
                            sensor=sensor, region=motion_region(region_label))
    return scn, RawSamples.from_units(scn.t, scn.acc, scn.gyro)


def save(scn, raw, directory):
    """Keep raw.csv (exactly the integers replayed), truth.csv and segments.csv."""
    from . import scenario
    private_dir(directory)
    paths = {k: os.path.join(directory, k + ".csv") for k in ("raw", "truth", "segments")}
    raw.write_csv(paths["raw"])
    scenario.write_truth_csv(scn, paths["truth"])
    scenario.write_segments_csv(scn, paths["segments"])
    return paths


def generate_to_stream(name, minutes, rate_hz, seed, region_label, stream_path,
                       save_dir=None):
    """simulate --scenario: write the sim stream; return (rate_hz, samples, saved paths)."""
    scn, raw = generate(name, minutes, rate_hz, seed, region_label)
    raw.write_stream(stream_path)
    saved = save(scn, raw, save_dir) if save_dir else None
    return raw.rate_hz, len(raw), saved
