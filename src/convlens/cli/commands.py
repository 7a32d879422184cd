"""Every subcommand module, in the order `convlens --help` lists them."""

from convlens.cli import explain, jigsaw, probe, report, theory, uncertainty, vgg


def register(sub) -> None:
    for module in (theory, vgg, explain, uncertainty, jigsaw, probe, report):
        module.register(sub)
