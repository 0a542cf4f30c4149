"""`scorehost train mmm` and `scorehost eval mmm`: their options, without torch.

Every start of the command line registers them, `scorehost --help` included, so this module
imports only click; the training and evaluation code (torch, miditok) loads when one runs.
"""

from __future__ import annotations

from pathlib import Path

import click

from scorehost.plugins.lib.training import nproc_option

from .weights import WEIGHTS_DIR


@click.command(name="mmm")
@click.option("--out", type=click.Path(path_type=Path), default=Path("runs/mmm"), show_default=True,
              help="Checkpoints, log and the data cache.")  # fmt: skip
@click.option("--weights", type=click.Path(path_type=Path), default=Path("runs/mmm/best"), show_default=True,
              help="Where the best weights are exported.")  # fmt: skip
@click.option("--data", type=click.Path(path_type=Path, exists=True, file_okay=False), default=None,
              help="A folder of your own MIDI/MusicXML files (default: music21's corpus and mma accompaniment).")  # fmt: skip
@click.option("--init", type=click.Path(path_type=Path, exists=True, file_okay=False), default=None,
              help="Start from these weights (e.g. the shipped ones, plugins/mmm/weights) instead of from scratch; "
              "their network shape is used. Ignored when --out holds a checkpoint to resume.")  # fmt: skip
@click.option("--minutes", type=float, default=60.0, show_default=True, help="Training time budget.")
@click.option("--batch", type=int, default=16, show_default=True)
@click.option("--context", type=int, default=1024, show_default=True, help="Longest sequence, in tokens.")
@click.option("--dim", type=int, default=256, show_default=True)
@click.option("--layers", type=int, default=4, show_default=True)
@click.option("--heads", type=int, default=4, show_default=True)
@click.option("--lr", type=float, default=1e-3, show_default=True)
@click.option("--eval-every", type=int, default=200, show_default=True)
@click.option("--accompaniment-weight", type=float, default=1.0, show_default=True,
              help="How much more often an mma-accompanied piece (drums, bass, chords) is drawn than a corpus piece of its length.")  # fmt: skip
@click.option("--threads", type=int, default=2, show_default=True)
@click.option("--device", default=None, help="cpu, cuda; default: CUDA when present.")
@nproc_option
def train_command(**given) -> None:
    """Train the mmm network (bar and track infilling); resumes from --out."""
    from .train import main

    main(**given)


@click.command(name="mmm")
@click.option(
    "--weights",
    type=click.Path(path_type=Path, exists=True, file_okay=False),
    default=WEIGHTS_DIR,
    show_default=True,
)
@click.option("--cache", type=click.Path(path_type=Path), default=Path("runs/mmm/data"), show_default=True,
              help="Where the held-out pieces are read to (the training command's data cache serves).")  # fmt: skip
@click.option("--split", type=click.Choice(["test", "valid"]), default="test", show_default=True,
              help="Held-out pieces to measure on: tune options on valid, report test.")  # fmt: skip
@click.option("--pieces", type=int, default=100, show_default=True, help="Held-out pieces to fill bars of.")
@click.option("--rounds", type=int, default=1, show_default=True,
              help="Rounds of cases: round r picks a span of every piece with seed + r (more cases, narrower intervals).")  # fmt: skip
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("-O", "--option", "options", multiple=True, metavar="KEY=VALUE",
              help="Sampling option for the fills, e.g. temperature=0.9 (default: the model's defaults).")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--device", default=None, help="cpu, cuda; default: CUDA when present.")
def eval_command(**given) -> None:
    """Held-out figures of the mmm model, beside a copy-the-nearest-bar baseline."""
    from .evaluate import main

    main(**given)
