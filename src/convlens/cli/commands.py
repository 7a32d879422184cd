"""Every subcommand module, in the order `convlens --help` lists them."""

from convlens.cli import report, theory, vgg


def register(sub) -> None:
    for module in (theory, vgg, report):
        module.register(sub)
