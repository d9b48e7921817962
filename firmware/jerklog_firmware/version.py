"""The one version of jerklog: the board reports it in its hello, the host package is built
with it (pyproject.toml reads it), `jerklog --version` prints it."""
VERSION = "0.1.0"
