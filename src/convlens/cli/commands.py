"""Every subcommand module, in the order `convlens --help` lists them."""

from convlens.cli import report, theory


def register(sub) -> None:
    for module in (theory, report):
        module.register(sub)
