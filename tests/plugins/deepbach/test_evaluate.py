"""`scorehost eval deepbach`: the harmonize-and-count pipeline on a test chorale, and its option errors."""

from __future__ import annotations

import re

from scorehost.plugins.deepbach.data import read_splits
from scorehost.plugins.deepbach.evaluate import folk_melodies, harmonization_faults, per_100_beats, table
from scorehost.plugins.deepbach.model import DeepBach

from ...core.test_cli import scorehost


def test_harmonizes_test_chorales_and_counts_beside_bach(capsys, monkeypatch):
    from functools import partial

    from scorehost.core.progress import Progress
    from scorehost.plugins.deepbach import evaluate

    # report from the start: on a quiet machine two chorales take less than the usual 2 s delay
    monkeypatch.setattr(evaluate, "Progress", partial(Progress, delay=0))
    model = DeepBach()
    model.load("cpu")
    names = read_splits()["test"][:2]
    totals = harmonization_faults(model, names, model.Options(seed=0, variations=2))
    # it says how far it is on stderr (it ran silent for 9 minutes over the whole test split)
    reported = re.findall(r"deepbach eval: ([\d.]+)/2 pieces harmonized", capsys.readouterr().err)
    assert len(reported) >= 3 and [float(r) for r in reported] == sorted(float(r) for r in reported)
    assert float(reported[-1]) > 1
    assert totals["beats"] > 40
    assert totals["model"]["out_of_range"] == 0 and totals["bach"]["out_of_range"] == 0
    raw = harmonization_faults(model, names, model.Options(seed=0, parallel_penalty=0))
    assert raw["bach"] == totals["bach"]  # Bach does not depend on the options
    assert totals["model"]["pieces"] == 4 and totals["bach"]["pieces"] == 2  # two variations each
    rates = per_100_beats(totals)
    assert set(rates) == {"model", "bach"} and rates["model"]["crossings"] >= 0
    lines = table(totals)
    assert any(line.split()[:4] == ["beats", "neither", "triad", "nor"] for line in lines)


def test_folk_melodies_cover_four_meters_as_melodies_to_harmonize():
    pieces = folk_melodies()
    meters = {(s.time_signatures[0].numerator, s.time_signatures[0].denominator) for _, s, _ in pieces}
    assert meters == {(2, 4), (3, 4), (4, 4), (6, 8)}
    for _, score, bach in pieces:
        assert bach is None and [t.role for t in score.tracks] == ["soprano", "alto", "tenor", "bass"]
        assert score.tracks[0].notes and not any(t.notes for t in score.tracks[1:])


def test_bad_sampling_option_is_one_clear_error():
    proc = scorehost("eval", "deepbach", "-O", "parallel_penalty=-1")
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert (
        proc.stderr.strip() == "error: --option: parallel_penalty: Input should be greater than or equal to 0"
    )
