"""The `convlens` command: argument parsing only; every subcommand calls library functions.

Errors the user can fix become one line `convlens: error: ...` and exit status 2; `--debug`
shows the traceback instead.
"""

from __future__ import annotations

import argparse
import json
import sys

from convlens import __version__
from convlens.errors import ConvlensError


class _Parser(argparse.ArgumentParser):
    """argparse prints usage plus the error; we promise a single line."""

    def error(self, message):
        raise ConvlensError(f"{self.prog.removeprefix('convlens ')}: {message}".strip())


def build_parser() -> argparse.ArgumentParser:
    from convlens.cli import commands

    parser = _Parser(
        prog="convlens",
        description="Look inside convolutional networks: the FYS-3033 exam, end to end.",
    )
    parser.add_argument("--version", action="version", version=f"convlens {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    commands.register(sub)
    return parser


def print_json(obj) -> None:
    print(json.dumps(obj, indent=2, default=_json_default))


def _json_default(obj):
    import numpy as np

    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    return str(obj)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    debug = "--debug" in argv
    try:
        args = build_parser().parse_args(argv)
        return int(args.func(args) or 0)
    except BrokenPipeError:  # output piped into `head`: not an error
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("convlens: interrupted", file=sys.stderr)
        return 130
    except (ConvlensError, FileNotFoundError, NotADirectoryError, PermissionError) as exc:
        if debug:
            raise
        print(f"convlens: error: {_one_line(exc)}", file=sys.stderr)
        return 2


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.filename:
        return f"{exc.filename}: {exc.strerror or exc}"
    return " ".join(str(exc).split())
