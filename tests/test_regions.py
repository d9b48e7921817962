"""One body-region table: the board's, for every part of the host."""
import pytest

from jerklog import JerklogError, regions
from jerklog.sim.generate import DEVICE_REGIONS, motion_region
from jerklog_firmware import config


@pytest.mark.parametrize("text, name", [
    ("wrist", "wrist"), ("Left Wrist", "left_wrist"), ("right arm", "right_wrist"),
    ("left upper arm", "left_upper_arm"), ("R ankle", "right_ankle"), ("right leg", "right_ankle"),
    ("thigh", "thigh"), ("hip", "trunk"), ("waist", "trunk"), ("left chest", "trunk"),
    ("left_thigh", "left_thigh"), ("unknown", "unknown"),
])
def test_free_text_maps_onto_the_boards_table(text, name):
    assert regions.parse(text) == name
    assert name in config.REGIONS


def test_text_naming_no_region_is_a_clear_error_or_the_default():
    with pytest.raises(JerklogError, match="unknown body region 'elbow-ish'"):
        regions.parse("elbow-ish")
    assert regions.parse("", default="unknown") == "unknown"


def test_hip_is_the_trunk_everywhere():
    # The generator once modelled a hip sensor as the thigh, the .cwa reader as the trunk.
    assert regions.parse("hip") == "trunk"
    assert motion_region("hip") == "trunk"
    from jerklog.recordings.axivity import _body_location
    assert _body_location("right hip") == "trunk"


def test_every_region_the_simulator_stores_is_one_a_board_accepts():
    for name in DEVICE_REGIONS:
        assert name in config.REGIONS
        assert config.validate(dict(config.DEFAULTS, region=name))["region"] == name


def test_limb_and_label():
    assert regions.limb("left_upper_arm") == "upper_arm"
    assert regions.limb("trunk") == "trunk"
    assert regions.label("right_ankle") == "right ankle"
