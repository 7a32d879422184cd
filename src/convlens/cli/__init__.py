"""The `convlens` command: argument parsing only; every subcommand calls library functions.

Errors the user can fix become one line `convlens: error: ...` and exit status 2; `--debug`
shows the traceback instead.
"""

from __future__ import annotations

import argparse
import sys

from convlens import __version__, atomic
from convlens.cli.options import check_outputs_spare_inputs
from convlens.errors import ConvlensError


class _Parser(argparse.ArgumentParser):
    """argparse prints usage plus the error; we promise a single line."""

    def error(self, message):
        command = self.prog.removeprefix("convlens").strip()
        raise ConvlensError(f"{command}: {message}" if command else message)


def build_parser() -> argparse.ArgumentParser:
    # Imported here: each command module imports convlens.cli.options, not this package.
    from convlens.cli import (
        attributions,
        explain,
        jigsaw,
        probe,
        report,
        theory,
        uncertainty,
        vgg,
    )

    parser = _Parser(
        prog="convlens",
        description="Look inside convolutional networks: the FYS-3033 exam, end to end.",
    )
    parser.add_argument("--version", action="version", version=f"convlens {__version__}")
    # --debug is taken out of argv before parsing, so it may stand anywhere on the line.
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for module in (theory, vgg, explain, attributions, uncertainty, jigsaw, probe, report):
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    debug = "--debug" in argv
    argv = [a for a in argv if a != "--debug"]
    try:
        args = build_parser().parse_args(argv)
        check_outputs_spare_inputs(args)
        with atomic.inputs_kept():
            status = int(args.func(args) or 0)
        if getattr(args, "weights", None) == "random":  # said after the output, not before
            print("note: random weights, predictions carry no meaning", file=sys.stderr)
        return status
    except BrokenPipeError:  # output piped into `head`: not an error
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("convlens: interrupted", file=sys.stderr)
        return 130
    except (ConvlensError, OSError) as exc:  # OSError: a file the user named, a full disk
        if debug:
            raise
        print(f"convlens: error: {_one_line(exc)}", file=sys.stderr)
        return 2


def _one_line(exc: BaseException) -> str:
    """The message on one line: a line break (only a file name can bring one) is shown as
    \\n, as a shell would quote it, so the name stays recognisable."""
    if isinstance(exc, OSError) and exc.filename:
        text = f"{exc.filename}: {exc.strerror or exc}"
    else:
        text = str(exc).strip()
    return text.replace("\r", "\\r").replace("\n", "\\n")
