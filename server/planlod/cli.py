"""The `planlod` command: one entry point, a subcommand per job."""

import argparse
import sys


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="planlod", description=__doc__)
    parser.add_subparsers(dest="command", required=True)
    # Each tool adds its subcommand here.
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
