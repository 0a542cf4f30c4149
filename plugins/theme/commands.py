"""`scorehost train theme` and `scorehost eval theme`: their options, without torch.

Every start of the command line registers them, so this module imports only click; the
training and evaluation code (torch) loads when one runs.
"""

from __future__ import annotations

from pathlib import Path

import click

from scorehost.plugins.lib.training import nproc_option


@click.command(name="theme")
@click.option("--out", type=click.Path(path_type=Path), default=Path("runs/theme"), show_default=True,
              help="Checkpoints, log and the data cache.")  # fmt: skip
@click.option("--weights", type=click.Path(path_type=Path), default=Path("runs/theme/best"), show_default=True,
              help="Where the best weights of both networks are exported.")  # fmt: skip
@click.option("--data", type=click.Path(path_type=Path, exists=True, file_okay=False), default=None,
              help="A folder of your own MIDI/MusicXML files (default: music21's folk tunes, chorales and quartets).")  # fmt: skip
@click.option("--init", type=click.Path(path_type=Path, exists=True, file_okay=False), default=None,
              help="Start both networks from weights exported by an earlier run (their shape is used). "
              "Ignored when --out holds a checkpoint to resume.")  # fmt: skip
@click.option("--minutes", type=float, default=60.0, show_default=True,
              help="The whole run's time: data, training and checkpoints.")  # fmt: skip
@click.option("--batch", type=int, default=16, show_default=True)
@click.option(
    "--context", type=int, default=1024, show_default=True, help="Longest decoder sequence, in tokens."
)
@click.option("--theme-context", type=int, default=256, show_default=True, help="Longest theme, in tokens.")
@click.option("--dim", type=int, default=256, show_default=True)
@click.option("--layers", type=int, default=4, show_default=True, help="Decoder layers (both networks).")
@click.option("--encoder-layers", type=int, default=2, show_default=True)
@click.option("--heads", type=int, default=4, show_default=True)
@click.option("--lr", type=float, default=1e-3, show_default=True)
@click.option("--eval-every", type=int, default=200, show_default=True)
@click.option("--threads", type=int, default=2, show_default=True)
@click.option("--device", default=None, help="cpu, cuda; default: CUDA when present.")
@nproc_option
def train_command(**given) -> None:
    """Train the theme network and its prompt baseline on the same batches; resumes from --out."""
    from .train import main

    main(**given)


@click.command(name="theme")
@click.option("--weights", type=click.Path(path_type=Path, exists=True, file_okay=False), required=True,
              help="A folder with both networks' weights (train theme's --weights).")  # fmt: skip
@click.option("--cache", type=click.Path(path_type=Path), default=Path("runs/theme/data"), show_default=True,
              help="The data cache (train theme's serves).")  # fmt: skip
@click.option("--data", type=click.Path(path_type=Path, exists=True, file_okay=False), default=None,
              help="The folder the weights were trained on, if not the corpus.")  # fmt: skip
@click.option("--split", type=click.Choice(["test", "valid"]), default="test", show_default=True)
@click.option(
    "--pieces", type=int, default=50, show_default=True, help="Held-out pieces to develop themes in."
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--device", default=None, help="cpu, cuda; default: CUDA when present.")
def eval_command(**given) -> None:
    """Held-out figures of the theme model, its prompt baseline and the true music."""
    from .evaluate import main

    main(**given)
