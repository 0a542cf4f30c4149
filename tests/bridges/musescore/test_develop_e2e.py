"""The Develop theme plugin in a real MuseScore 3, headless, against a real `scorehost serve`
with theme (on tiny random weights, and on the shipped ones: see tests/plugins/theme/serving.py).

MuseScore runs scorehost_theme.qml (with the scorehost.js it imports) on a folk tune whose
bars 9-24 are empty: with bars 1-4 as the selected theme, the plugin fills the first empty bars
after it; with the empty bars selected, the server finds the theme and the plugin says which
bars it took. music21 then reads the saved score to check what changed and what did not.
"""

from __future__ import annotations

import pytest

from scorehost.bridges.musescore import THEME_QML
from scorehost.core.scoreio import read_score, write_score

from ...plugins.theme.conftest import tune
from ...plugins.theme.serving import assert_developed, bars_by_number, fill_span, serve
from .conftest import MSCORE, run_plugin

pytestmark = pytest.mark.skipif(
    MSCORE is None, reason="MuseScore 3 is not installed (apt-get install musescore3)"
)


@pytest.fixture(scope="module")
def theme_server(theme_weights, tmp_path_factory):
    running = serve(theme_weights, tmp_path_factory.mktemp("served"), bridges=("http",))
    yield f"http://127.0.0.1:{running.ports['http']}"
    assert running.stop() == 0, running.lines


def exercise(tmp_path):
    """The tune with the notes of bars 9-24 taken out, saved as MusicXML and read back."""
    score = tune()
    start, end = fill_span(score)
    melody = score.tracks[0].model_copy(
        update={"notes": [n for n in score.tracks[0].notes if not start <= n.start < end]}
    )
    path = write_score(score.model_copy(update={"tracks": [melody]}), tmp_path / "tune.musicxml")
    return path, read_score(path)


def test_the_selected_theme_is_developed_in_the_empty_bars_after_it(theme_server, tmp_path):
    path, source = exercise(tmp_path)
    bars = bars_by_number(source)
    selection = {"start": bars[1].start, "end": bars[4].end, "firstStaff": 0, "lastStaff": 0}
    saved, log = run_plugin(theme_server, path, tmp_path, plugin=THEME_QML,
                            develop={"model": "theme", "selection": selection, "options": {"seed": 1}})  # fmt: skip
    assert saved.exists(), log
    assert "wrote 1 region(s) with theme" in log and "developed the theme of bars 1-4 in bars 9-24" in log, (
        log
    )
    # the plugin writes one variation: the bars and the context, whatever the weights (the
    # theme's recurrence is checked on several variations over the command line, HTTP and OSC)
    assert_developed(source, read_score(saved), 0, fill_span(source), bars=16)


def test_empty_bars_selected_get_the_theme_the_server_finds(theme_server, tmp_path):
    path, source = exercise(tmp_path)
    start, end = fill_span(source)
    selection = {"start": start, "end": end, "firstStaff": 0, "lastStaff": 0}
    saved, log = run_plugin(theme_server, path, tmp_path, plugin=THEME_QML,
                            develop={"model": "theme", "selection": selection, "options": {"seed": 2}})  # fmt: skip
    assert saved.exists(), log
    assert "theme: bars 1-4 of track 0" in log and "taken from the context before the region" in log, log
    assert_developed(source, read_score(saved), 0, (start, end), bars=16)


def test_without_a_selection_nothing_happens(tmp_path):
    path, _ = exercise(tmp_path)
    # no server: a request would fail with "cannot reach", so the message proves none was made
    saved, log = run_plugin("http://127.0.0.1:9", path, tmp_path, plugin=THEME_QML, model="theme")
    assert not saved.exists()
    assert "Select the theme" in log and "cannot reach" not in log
