"""`python -m jerklog`: the same as the `jerklog` command."""
import sys

from jerklog.cli.main import main

sys.exit(main())
