"""The `jerklog` command line: one module per command group; each parses its options, calls
one part of the package and prints one line per outcome."""
