"""The `planlod` command: one entry point, a subcommand per job."""

import argparse
import sys


class OneLineErrorParser(argparse.ArgumentParser):
    """Bad usage (an unknown option, a missing argument) gets one clear line and exit 2, not a usage block."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineErrorParser(prog="planlod", description=__doc__)
    subparsers = parser.add_subparsers(dest="command", required=True)
    # Each tool adds its subcommand here.
    from .tools import importer, suggest
    suggest.register(subparsers)  # suggest, accept
    importer.register(subparsers)  # import, export-outline
    from .graph import external_load
    external_load.register(subparsers)  # load-external
    from .tools import validate
    validate.register(subparsers)  # validate
    from .web import serve
    serve.register(subparsers)  # serve
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
