"""`python -m scorehost.plugins.theme train|eval ...`: the theme plugin's commands while it is
not yet a built-in (they become `scorehost train theme` and `scorehost eval theme` then)."""

from __future__ import annotations

import click

from .commands import eval_command, train_command


@click.group()
def main() -> None:
    """Train and evaluate the theme model (not yet shipped)."""


main.add_command(train_command, "train")
main.add_command(eval_command, "eval")

if __name__ == "__main__":
    main()
