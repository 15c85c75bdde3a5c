#!/usr/bin/env python3
"""Start and stop the real backends the test suite talks to (stdlib only).

    eval "$(scripts/backends.py start --state .backends/dev.json)"   # prints `export ...` lines
    scripts/backends.py stop --state .backends/dev.json              # stops what that start started

Each backend is a record in scripts/testbackends/ (see its __init__.py); their ports move with
TB_TEST_<NAME>_PORT variables, so several checkouts can run their own side by side. Progress goes to
stderr, so stdout holds only the export lines.
"""
import argparse
import shlex
from pathlib import Path

from testbackends import BACKENDS  # scripts/ is on the path: this file runs as a script
from testbackends.common import ROOT
from testbackends.supervisor import start, stop


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["start", "stop"])
    parser.add_argument("--state", type=Path, default=ROOT / ".backends" / "state.json",
                        help="where start records what it started, for stop (default: %(default)s)")
    args = parser.parse_args()
    if args.action == "stop":
        stop(args.state)
        return
    for key, value in start(args.state, BACKENDS).items():
        print(f"export {key}={shlex.quote(value)}")


if __name__ == "__main__":
    main()
