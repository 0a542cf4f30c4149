"""The theme model end to end, as a user runs it: the `scorehost` command and `scorehost serve`
with theme among their models, on tiny random weights (always) or on the shipped ones.

Until trained weights and their model card ship, theme is not registered (weights.shipped()),
so the end-to-end tests run `tinyhost.py`, which is `scorehost` with theme on a folder of
weights, on tiny random ones: they check what holds whatever the weights (the bars written, the
context kept, the theme retrieved and reported, the errors). The same tests run once more on the
shipped model (plain `scorehost`, theme a built-in) and check that the theme recurs; they skip,
saying so, while nothing ships.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from scorehost.core.host import Host
from scorehost.core.score import Bar, Note, Score
from scorehost.plugins.theme.weights import shipped

from ...bridges.serve_process import SCOREHOST, ServeProcess

TINYHOST = Path(__file__).with_name("tinyhost.py")
NOT_SHIPPED = (
    "theme's trained weights and model card do not ship yet (plugins/theme/README.md, "
    "'Shipping it'); the same test on tiny random weights runs"
)
# O'Neill's "She's A Daughter of Daniel O'Connell" (A B A C D E; its A phrase, bars 1-4 with
# the upbeat, comes back at bars 9 and 26): the tune the Done-when names.
FILL_BARS = (9, 24)


@dataclass(frozen=True)
class ThemeWeights:
    """Which theme model a test runs: tiny random weights in a folder, or the shipped ones."""

    name: str
    folder: Path | None  # None: the shipped model, a built-in

    @property
    def trained(self) -> bool:
        return self.folder is None

    @property
    def variations(self) -> int:
        """How many variations a Done-when test asks for: several on trained weights, where one
        of them must restate the theme; one on the tiny random ones."""
        return 4 if self.trained else 1

    def command(self) -> list[str]:
        """The `scorehost` command with theme among its models."""
        if self.folder is None:
            return list(SCOREHOST)
        return [sys.executable, str(TINYHOST), str(self.folder)]

    def host(self) -> Host:
        """An in-process host with the built-ins and theme (for bridges started in the test)."""
        if self.folder is None:
            return Host(env={"SCOREHOST_PLUGINS": ""})
        from .tinyhost import host_with_theme

        return host_with_theme(self.folder, env={"SCOREHOST_PLUGINS": ""})


def theme_weights(which: str, folder: Path) -> ThemeWeights:
    """The weights a parametrized fixture names: "tiny" (exported into folder) or "shipped"."""
    if which == "shipped":
        if not shipped():
            pytest.skip(NOT_SHIPPED)
        return ThemeWeights("shipped", None)
    export_tiny(folder)
    return ThemeWeights("tiny", folder)


def export_tiny(folder: Path) -> None:
    """Tiny random weights of both networks (the grammar's guarantees hold whatever they are)."""
    import torch

    from scorehost.plugins.lib.training import export_weights
    from scorehost.plugins.lib.transformer import GPT
    from scorehost.plugins.theme.network import ThemeNet
    from scorehost.plugins.theme.weights import BASELINE_STEM, STEM

    from .conftest import tiny_config, vocabulary

    torch.manual_seed(0)
    config, vocab = tiny_config(), vocabulary()
    for stem, net, network in (
        (STEM, ThemeNet(config), config.to_json()),
        (BASELINE_STEM, GPT(config.block()), config.block().to_json()),
    ):
        export_weights(folder, stem, net, {"network": network, "theme_context": config.theme_context,
                                           "vocab": vocab.to_json(), "training": {}})  # fmt: skip


def run(weights: ThemeWeights, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "SCOREHOST_PLUGINS": "", "SCOREHOST_DEVICE": "cpu"}
    env.pop("SCOREHOST_DEBUG", None)
    return subprocess.run(
        [*weights.command(), *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=300
    )


def serve(weights: ThemeWeights, folder: Path, bridges: tuple[str, ...] = ("osc", "http")) -> ServeProcess:
    """`scorehost serve` with theme, the bridges named on free ports, --allow-dir folder."""
    return ServeProcess(folder, bridges, command=tuple(weights.command()))


# ---- what a development of the theme must show ----------------------------------------------


def bars_by_number(score: Score) -> dict[int, Bar]:
    return {b.number: b for b in score.bars()}


def fill_span(score: Score, first: int = FILL_BARS[0], last: int = FILL_BARS[1]) -> tuple[int, int]:
    bars = bars_by_number(score)
    return bars[first].start, bars[last].end


def assert_developed(before: Score, after: Score, track: int, span: tuple[int, int], bars: int) -> list[Note]:
    """Only [start, end) of the track was written, with notes in it; every other note, of every
    track, is as it was. Returns the written notes."""
    start, end = span
    assert len(after.tracks) == len(before.tracks)
    assert len([b for b in before.bars() if start <= b.start < end]) == bars
    for t, (old, new) in enumerate(zip(before.tracks, after.tracks, strict=True)):
        keep = sorted(n.key() for n in old.notes if t != track or not start <= n.start < end)
        assert sorted(n.key() for n in new.notes if t != track or not start <= n.start < end) == keep, (
            f"track {t} changed outside the region"
        )
    written = [n for n in after.tracks[track].notes if start <= n.start < end]
    assert written and all(n.end <= end for n in written)
    return written


def theme_recurrence(score: Score, written: list[Note], track: int, theme: tuple[int, int],
                     span: tuple[int, int]) -> float:  # fmt: skip
    """The share of the written 2-bar segments alike to a 2-bar part of the theme (eval's
    measure)."""
    from scorehost.plugins.theme.evaluate import recurrence

    bars = score.bars()
    theme_notes = [n for n in score.tracks[track].notes if theme[0] <= n.start < theme[1]]
    theme_bars = [b for b in bars if theme[0] <= b.start < theme[1] and not b.is_partial]
    return recurrence(written, [b for b in bars if span[0] <= b.start < span[1]], theme_notes, theme_bars)


def check_development(weights: ThemeWeights, before: Score, afters: list[Score]) -> None:
    """The Done-when, on each of the variations asked for (weights.variations): bars 9-24 of the
    tune's melody written and nothing else changed; on trained weights, the theme (bars 1-4)
    recurs in them, in one variation at least (a sampled development need not restate the
    theme every time: the tune's own bars 9-24 restate two of its bars once, a share of 1/8)."""
    assert len(afters) == weights.variations
    span = fill_span(before)
    shares = [theme_recurrence(before, assert_developed(before, after, 0, span, bars=16), 0,
                               theme_span(before), span) for after in afters]  # fmt: skip
    if weights.trained:
        assert max(shares) > 0, f"the theme does not recur in the 16 bars of any variation ({shares})"


def theme_span(score: Score) -> tuple[int, int]:
    bars = bars_by_number(score)
    return bars[1].start, bars[4].end


def variation_paths(out: Path, count: int) -> list[Path]:
    """The files an edit writes: OUT for one variation, OUT-1, OUT-2, ... for several."""
    return (
        [out] if count == 1 else [out.with_name(f"{out.stem}-{i}{out.suffix}") for i in range(1, count + 1)]
    )
