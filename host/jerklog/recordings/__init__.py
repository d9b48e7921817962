"""Recordings as files: the one in-memory type and raw-CSV writer (recording), the raw CSV
read into the board's integer grid (rawfile), other loggers' files (axivity, daphnet, folder),
raw waveforms a board streams (rawstream), and the board's detector run over a file on this
computer (analysis)."""
