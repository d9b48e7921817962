"""Talking to boards: finding them by USB id (discovery), holding their port (port), reading
frames (decoder) into the store (recorder), mapping their clock to UTC (clock), and copying
the firmware and its config onto them (deploy)."""
