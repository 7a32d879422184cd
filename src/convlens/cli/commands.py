"""Every subcommand module, in the order `convlens --help` lists them."""

from convlens.cli import explain, report, theory, uncertainty, vgg


def register(sub) -> None:
    for module in (theory, vgg, explain, uncertainty, report):
        module.register(sub)
