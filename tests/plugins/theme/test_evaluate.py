"""`scorehost eval theme`: its measures on known material, and a whole run on tiny random
networks over a folder of tunes (figures for the theme model, the baseline and the truth)."""

from __future__ import annotations

import json

from click.testing import CliRunner

from scorehost.core.score import Note
from scorehost.plugins.lib.training import export_weights
from scorehost.plugins.lib.transformer import GPT
from scorehost.plugins.theme.commands import eval_command
from scorehost.plugins.theme.evaluate import groove_similarity, pitch_class_entropy, recurrence
from scorehost.plugins.theme.network import ThemeNet
from scorehost.plugins.theme.weights import BASELINE_STEM, STEM

from .conftest import tiny_config, tune, vocabulary
from .test_train import tunes_folder


def test_the_true_continuation_of_an_aaba_tune_recurs_and_a_scale_does_not():
    score = tune()
    bars = score.bars()
    melody = score.tracks[0].notes
    theme = [n for n in melody if bars[1].start <= n.start < bars[5].start]
    after = [n for n in melody if bars[5].start <= n.start < bars[13].start]  # B, then A again
    # Of the segments 5-6, 7-8, 9-10 and 11-12, bars 9-10 restate bars 1-2; bars 11-12 end on
    # another upbeat than bars 3-4 (3 of their 5 notes line up): one in four.
    assert recurrence(after, bars[5:13], theme, bars[1:5]) == 0.25
    scale = [Note(start=bars[5].start + i * 480, duration=480, pitch=60 + i) for i in range(24)]
    assert recurrence(scale, bars[5:13], theme, bars[1:5]) == 0.0


def test_entropy_and_groove_measures():
    notes = [Note(start=i * 480, duration=480, pitch=60 + i % 4) for i in range(8)]
    assert pitch_class_entropy(notes) == 2.0
    bars = tune().bars()[1:3]
    mine = [n.model_copy(update={"start": bars[0].start + n.start}) for n in notes]
    assert groove_similarity(mine, mine, bars) == 1.0
    assert groove_similarity(mine, [], bars) < 1.0


def test_eval_reports_both_models_and_the_true_music(tmp_path):
    vocab, config = vocabulary(), tiny_config()
    weights = tmp_path / "weights"
    for stem, net, network in (
        (STEM, ThemeNet(config), config.to_json()),
        (BASELINE_STEM, GPT(config.block()), config.block().to_json()),
    ):
        export_weights(weights, stem, net, {"network": network, "theme_context": config.theme_context,
                                            "vocab": vocab.to_json(), "training": {}})  # fmt: skip
    folder = tunes_folder(tmp_path)
    result = CliRunner().invoke(
        eval_command,
        [
            "--weights",
            str(weights),
            "--data",
            str(folder),
            "--cache",
            str(tmp_path / "cache"),
            "--pieces",
            "2",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output[result.output.index("{") :])
    assert report["cases"] >= 1 and not report["failed"]
    assert set(report["test_nll"]) == {"theme", "prompt"} and all(v > 0 for v in report["test_nll"].values())
    for who in ("theme", "prompt", "true"):
        assert 0 <= report[who]["theme_recurrence"][0] <= 1
        assert 0 <= report[who]["pitch_class_entropy"][0] <= 3.6
    assert "groove_similarity" in report["theme"] and "groove_similarity" not in report["true"]
