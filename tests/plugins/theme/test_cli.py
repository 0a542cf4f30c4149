"""`scorehost edit --model theme` as a user runs it (a real process, real files): 16 bars
developed from the 4-bar theme of a folk tune, nothing else changed; the theme retrieved and
reported when none is named; one clear line for each request theme cannot serve."""

from __future__ import annotations

import pytest

from scorehost.core.scoreio import read_score, write_score

from .conftest import chorale, tune
from .serving import assert_developed, check_development, fill_span, run, variation_paths


@pytest.fixture
def tune_file(tmp_path):
    return write_score(tune(), tmp_path / "tune.musicxml")


def test_sixteen_bars_developed_from_the_theme_of_bars_1_to_4(theme_weights, tune_file, tmp_path):
    out = tmp_path / "out.musicxml"
    count = theme_weights.variations
    proc = run(theme_weights, "edit", str(tune_file), "-o", str(out), "--model", "theme",
               "--region", "0:9-24", "--constraint", "theme:1-4", "--seed", "1", "-n", str(count))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    paths = variation_paths(out, count)
    assert proc.stdout.split("\n")[:-1] == [f"wrote {p}" for p in paths]
    check_development(
        theme_weights, read_score(tune_file), [read_score(p) for p in paths]
    )  # nothing before bar 9 changes


def test_without_a_theme_retrieval_takes_the_opening_phrase_and_says_so(theme_weights, tune_file, tmp_path):
    out = tmp_path / "out.mid"
    proc = run(theme_weights, "edit", str(tune_file), "-o", str(out), "-m", "theme", "-r", "0:9-24",
               "--seed", "2")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert (
        "warning: theme: bars 1-4 of track 0 (Track 1), taken from the context before the region "
        "(retrieval; it recurs at bar 26)"
    ) in proc.stderr.splitlines()
    assert_developed(read_score(tune_file), read_score(out), 0, fill_span(read_score(tune_file)), bars=16)


def one_line_error(proc) -> str:
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and "Traceback" not in proc.stderr, proc.stderr
    return lines[0]


def test_bad_requests_get_one_clear_line(tiny_theme, tune_file, tmp_path):
    out = tmp_path / "out.musicxml"
    edit = ("edit", str(tune_file), "-o", str(out), "-m", "theme")
    cases = {
        # the theme overlaps the bars to write
        ("-r", "0:3-10", "-c", "theme:1-4"): "overlaps region 0",
        # the first note of the upbeat alone
        ("-r", "0:9-12", "-c", "theme:t0-240"): "holds 1 note",
        # a region on a drum track (drums adds one)
        ("-r", "drums:9-10", "-c", "theme:1-4"): "does not write drum tracks",
    }
    for args, fragment in cases.items():
        assert fragment in one_line_error(run(tiny_theme, *edit, *args)), args
    assert not out.exists()


def test_a_theme_longer_than_the_model_reads_gets_one_clear_line(tiny_theme, tmp_path):
    path = write_score(chorale(), tmp_path / "chorale.musicxml")
    proc = run(tiny_theme, "edit", str(path), "-o", str(tmp_path / "out.mid"), "-m", "theme",
               "-r", "0:8-9", "-c", "theme:0-6")  # fmt: skip
    assert "more than the 256 the model reads" in one_line_error(proc)


def test_no_theme_named_and_none_coming_back_gets_one_clear_line(tiny_theme, tmp_path):
    other = write_score(tune(4), tmp_path / "donnybrook.musicxml")  # nothing repeats in it
    proc = run(tiny_theme, "edit", str(other), "-o", str(tmp_path / "out.mid"), "-m", "theme", "-r", "0:8-9")
    message = one_line_error(proc)
    assert "no phrase before the region comes back" in message and "--constraint theme:1-4" in message
