"""`scorehost train deepbach` and `scorehost eval deepbach`: their options, without torch.

Every start of the command line registers them, `scorehost --help` included, so this module
imports only click; the training and evaluation code (torch, music21) loads when one runs.
"""

from __future__ import annotations

from pathlib import Path

import click

from scorehost.plugins.lib.training import nproc_option

from .weights import WEIGHTS_DIR


@click.command(name="deepbach")
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=Path("runs/deepbach"),
    show_default=True,
    help="Checkpoints, log and the data cache.",
)
@click.option(
    "--weights",
    type=click.Path(path_type=Path),
    default=Path("runs/deepbach/best"),
    show_default=True,
    help="Where the best weights are exported.",
)
@click.option(
    "--minutes",
    type=float,
    default=40.0,
    show_default=True,
    help="Training time budget (the learning rate follows it).",
)
@click.option("--batch", type=int, default=32, show_default=True)
@click.option("--window", type=int, default=32, show_default=True, help="Window length in sixteenths.")
@click.option("--dim", type=int, default=128, show_default=True)
@click.option("--layers", type=int, default=4, show_default=True)
@click.option("--lr", type=float, default=1e-3, show_default=True)
@click.option("--eval-every", type=int, default=250, show_default=True)
@click.option("--threads", type=int, default=2, show_default=True)
@click.option("--device", default=None, help="cpu, cuda; default: CUDA when present.")
@nproc_option
def train_command(**given) -> None:
    """Train the deepbach network on the training chorales; resumes from --out."""
    from .train import main

    main(**given)


@click.command(name="deepbach")
@click.option("--weights", type=click.Path(path_type=Path), default=WEIGHTS_DIR, show_default=True)
@click.option(
    "--data",
    type=click.Path(path_type=Path),
    default=Path("runs/deepbach/data"),
    show_default=True,
    help="Encoded-corpus cache.",
)
@click.option(
    "--set",
    "split",
    type=click.Choice(["test", "valid", "folk"]),
    default="test",
    show_default=True,
    help="Whose melodies to harmonize: the test or valid chorales' sopranos (beside Bach's own), "
    "or twelve folk melodies of music21's Essen collection (2/4, 3/4, 4/4, 6/8).",
)
@click.option("--limit", type=int, default=None, help="Harmonize only the first N melodies of the set.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the first variation.")
@click.option(
    "--variations",
    type=int,
    default=3,
    show_default=True,
    help="Harmonizations of each melody (seeds seed, seed+1, ...).",
)
@click.option("--nll/--no-nll", default=True, show_default=True, help="Measure the held-out NLL first.")
@click.option(
    "-O",
    "--option",
    "options",
    multiple=True,
    help="Sampling option KEY=VALUE for the harmonizations, e.g. parallel_penalty=0 (default: the defaults).",
)
@click.option("--device", default=None, help="cpu, cuda; default: CUDA when present.")
def eval_command(**given) -> None:
    """Held-out (valid, test) per-cell NLL, and the harmony and voice leading of harmonized sopranos
    beside Bach's."""
    from .evaluate import main

    main(**given)
