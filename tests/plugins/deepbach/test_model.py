"""End to end with the shipped weights: the host finds the model, and it harmonizes a held-out chorale."""

from __future__ import annotations

import click

from scorehost.core.host import Host
from scorehost.core.regions import constraint_violations
from scorehost.core.requests import EditRequest, PitchClasses, Region
from scorehost.plugins import deepbach
from scorehost.plugins.deepbach.data import read_splits
from scorehost.plugins.deepbach.encoding import voice_tracks
from scorehost.plugins.deepbach.faults import count_faults
from scorehost.plugins.deepbach.model import DeepBach
from scorehost.plugins.deepbach.weights import WEIGHTS_DIR, WEIGHTS_NAME, load_config


def test_host_registers_deepbach_with_its_constraints():
    model = Host(env={"SCOREHOST_PLUGINS": ""}).model("deepbach")
    info = model.info()
    assert info["capabilities"]["constraints"] == [
        "keep_rhythm",
        "pinned_notes",
        "pitch_classes",
        "pitch_range",
    ]
    assert {"iterations", "temperature_start", "temperature_end", "seed", "variations"} <= set(
        info["options_schema"]["properties"]
    )


def test_train_command_joins_the_train_group():
    cli = click.Group("scorehost")
    cli.add_command(click.Group("train"))
    deepbach.register_commands(cli=cli)
    assert "deepbach" in cli.commands["train"].commands


def test_shipped_weights_load_without_network_and_carry_their_vocabulary():
    assert (WEIGHTS_DIR / WEIGHTS_NAME).stat().st_size < 20_000_000
    config = load_config()
    assert config["vocab"]["symbols"] == ["pad", "mask", "rest", "hold"]
    assert config["training"]["valid_nll"] > 0


def test_harmonizes_the_soprano_of_a_test_chorale(chorale, job):
    name = "bach/" + read_splits()["test"][0].rsplit(".", 1)[0]
    score = chorale(name)
    soprano = next(i for i, t in enumerate(score.tracks) if t.role == "soprano")
    others = [i for i, t in enumerate(score.tracks) if t.role in ("alto", "tenor", "bass")]
    key = score.key_at(0)
    request = EditRequest(
        model="deepbach",
        score=score,
        regions=[Region(track=t, start=0, end=score.length) for t in others],
        constraints=[PitchClasses.from_key(key.tonic, key.mode)],
    )
    model = DeepBach()
    model.load("cpu")
    variations = model.inpaint(request, model.Options(seed=0, variations=2), job)
    assert len(variations) == 2
    for variation in variations:
        assert variation.score.tracks[soprano] == score.tracks[soprano]
        assert constraint_violations(request, variation.score) == []
        for voice, track in zip((1, 2, 3), others, strict=True):
            low, high = model.vocab.ranges[voice]
            notes = variation.score.tracks[track].notes
            assert notes and all(low <= n.pitch <= high for n in notes)


def test_parallel_penalty_steers_harmonizations_away_from_parallels(chorale, job):
    score = chorale("bach/bwv66.6")
    tracks = voice_tracks(score)
    request = EditRequest(
        model="deepbach",
        score=score,
        regions=[Region(track=t, start=0, end=score.length) for t in tracks[1:]],
    )
    model = DeepBach()
    model.load("cpu")

    def parallels(options) -> int:
        variations = model.inpaint(request, model.Options(variations=4, **options), job)
        counts = [count_faults(v.score, tracks, list(model.vocab.ranges)) for v in variations]
        return sum(c["parallel_fifths"] + c["parallel_octaves"] for c in counts)

    steered, unsteered = parallels({"seed": 1}), parallels({"seed": 1, "parallel_penalty": 0})
    assert steered <= 2 < unsteered  # four 9-bar harmonizations each way
