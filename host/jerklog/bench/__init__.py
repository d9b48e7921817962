"""The benchmark behind docs/benchmarks.md (`jerklog bench`): the detector against generated
ground truth and real recordings, the firmware's cost per sample, and a load test. Optional:
nothing on the data path imports it."""
