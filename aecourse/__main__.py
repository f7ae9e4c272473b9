"""Command line of the course: `python -m aecourse execute NOTEBOOK...`."""

import argparse
import pathlib
import sys

from aecourse import notebooks


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m aecourse", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("execute", help="execute chapters in full mode and stamp them")
    run.add_argument("notebooks", nargs="+", help="chapter notebooks, e.g. book/01_undercomplete.ipynb")
    run.add_argument("--no-fast-timing", action="store_true", help="skip timing a fast-mode run")
    args = parser.parse_args(argv)
    for path in args.notebooks:
        try:
            stamp = notebooks.execute(path, time_fast=not args.no_fast_timing)
        except ValueError as error:
            parser.error(str(error))
        print(f"{path}: full {stamp['runtime_full_s']} s, fast {stamp.get('runtime_fast_s', '-')} s, "
              f"hash {stamp['source_hash']}")
        print(f"updated {notebooks.write_runtime_table(pathlib.Path(path).parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
