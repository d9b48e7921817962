"""The detector benchmark's own arithmetic: matching and the real recordings' spike rule."""
import numpy as np
import pytest

from jerklog.bench import detect as bench


def _signal(spikes_s, size_g, seconds=20.0, rate=100):
    t = np.arange(int(seconds * rate)) / rate
    acc = np.zeros((len(t), 3))
    acc[:, 0] = 1.0
    for ts in spikes_s:
        acc[:, 2] += size_g * np.exp(-0.5 * ((t - ts) / 0.01) ** 2)
    return t, acc


def test_a_lone_spike_is_isolated_and_a_step_among_steps_is_not():
    t, acc = _signal([10.0], 2.0)
    assert bench.isolation_ratio(t, acc, 10.0) > 10
    steps = list(np.arange(2.0, 18.0, 0.55))
    t, acc = _signal(steps, 1.0)
    assert bench.isolation_ratio(t, acc, steps[15]) == pytest.approx(1.0, abs=0.2)


def test_standing_out_of_the_movement_before_looks_back_only():
    # A jerk at 10 s followed (not preceded) by strides: it stands out of what came before.
    t, acc = _signal([10.0] + list(np.arange(10.6, 18.0, 0.55)), 1.0)
    assert bench.isolation_ratio(t, acc, 10.0) == pytest.approx(1.0, abs=0.2)
    assert bench.isolation_ratio(t, acc, 10.0, after=False) > 10


def test_real_table_counts_isolated_spikes_apart_and_never_hides_them():
    text = bench.format_real([("a (wrist)", 0.05, 3, 2), ("b (ankle)", 0.05, 1, 0)])
    assert "| a (wrist) | 0.050 | 3 | 2 | 20.0 | <= 5 |" in text
    assert "| b (ankle) | 0.050 | 1 | 0 | 20.0 | <= 5 |" in text
    assert "| all | 0.100 | 4 | 2 | 20.0 | <= 5 |" in text


def test_matching_is_one_to_one_within_the_window():
    pairs, unmatched = bench.match([1000.0, 2000.0], [1010.0, 1050.0, 2300.0])
    assert pairs == [(0, 0)]
    assert unmatched == [1, 2]


def test_the_several_sensor_benchmark_on_a_short_session():
    from jerklog.bench import body
    tallies = body.run_body_set("A", (11,), suite=(("rest", 1.5),), log=lambda *a: None)
    assert set(tallies) == set(body.WAYS)
    n = tallies["board"].truth.get(("kind", "all", "all"))
    assert n and all(t.truth.get(("kind", "all", "all")) == n for t in tallies.values())
    scopes = sum(tallies["board"].truth.get(("scope", "rest+asleep", s), 0)
                 for s in body.SCOPE_ROWS)
    assert scopes == n
    offered, _ = tallies["board"].sensitivity(("offered", "rest"))
    for way in body.WAYS:   # the host finds only among the candidates the board offered
        assert tallies[way].sensitivity(("context", "rest"))[0] <= offered
    text = body.format_body({"tuning seeds": tallies})
    assert "| generalised jerks, rest+asleep |" in text
    assert "| false events per hour from sitting down fast |" in text
