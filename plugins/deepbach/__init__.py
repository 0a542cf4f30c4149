"""deepbach: DeepBach/Coconet-style Gibbs inpainting of four-part chorales (a built-in plugin)."""

from __future__ import annotations

from scorehost.core.hookspecs import hookimpl


@hookimpl
def register_models(register) -> None:
    from .model import DeepBach

    register(DeepBach())


@hookimpl
def register_commands(cli) -> None:
    from .train import train_command

    group = cli.commands.get("train")
    if group is None:
        import click

        group = click.Group("train", help="Train a model's weights.")
        cli.add_command(group)
    group.add_command(train_command)
