"""Generated scenarios as the simulator and the benchmark use them: quantised to the integer
grid the board sees, written as a sim stream, and (optionally) kept as CSV with their truth."""
import os

from jerklog import JerklogError, regions
from jerklog.files import private_dir
from jerklog.recordings.rawfile import RawSamples


def motion_region(label: str) -> str:
    """The generator's motion model for a body region ('left_wrist', or 'left arm': 'wrist')."""
    part = regions.limb(regions.parse(label))
    if part == "unknown":
        raise JerklogError("no motion model for region %r: name a wrist, arm, upper arm, "
                           "ankle, leg, thigh or trunk" % label)
    return part


def generate(name: str, minutes: float | None, rate_hz: int, seed: int, region_label: str,
             sensor: str = "LSM6DSOX") -> tuple:
    """Generate a scenario; return (Scenario, RawSamples on the board's integer grid)."""
    from jerklog.sim import scenario
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


def save(scn, raw: RawSamples, directory: str) -> dict:
    """Keep raw.csv (exactly the integers replayed), truth.csv and segments.csv."""
    from jerklog.sim import scenario
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


# simulate --devices: the sensors, in the board's region names (regions.REGIONS).
DEVICE_REGIONS = ("left_wrist", "right_wrist", "right_ankle", "trunk")


def generate_devices(name: str, minutes: float | None, rate_hz: int, seed: int, n: int,
                     focal_per_hour: float = 6.0) -> list:
    """Several sensors worn at once: [(region, RawSamples, truth)] for n devices.

    Jerks of the scenario (seed) happen at the same moment on every sensor: generalised.
    Each sensor also gets jerks of its own (focal; several regions' own jerks close in time
    make the picture multifocal): the jerk-only difference of a scenario with another seed,
    added on top. truth: (t s, kind, 'generalised' or 'focal') per jerk.
    """
    from jerklog.sim import scenario
    if not 1 <= n <= len(DEVICE_REGIONS):
        raise JerklogError("--devices %d: 1 to %d" % (n, len(DEVICE_REGIONS)))
    out = []
    for k, label in enumerate(DEVICE_REGIONS[:n]):
        region = motion_region(label)
        shared, raw = generate(name, minutes, rate_hz, seed, label)
        truth = [(e.t, e.kind, "generalised") for e in shared.truth]
        if n > 1:
            own = seed * 100 + 1 + k
            with_jerks = scenario.generate(name, minutes=minutes, rate_hz=rate_hz, seed=own,
                                           region=region, jerks_per_hour=focal_per_hour)
            without = scenario.generate(name, minutes=minutes, rate_hz=rate_hz, seed=own,
                                        region=region, jerks_per_hour=0)
            keep = with_jerks.truth
            acc = shared.acc + (with_jerks.acc - without.acc)
            gyro = shared.gyro + (with_jerks.gyro - without.gyro)
            raw = RawSamples.from_units(shared.t, acc, gyro)
            truth += [(e.t, e.kind, "focal") for e in keep]
        out.append((label, raw, sorted(truth)))
    return out
