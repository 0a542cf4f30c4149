"""Round trips on real corpus pieces: notes survive every format exactly."""

import pytest
from music21 import corpus

from scorehost.core.errors import LimitExceeded, ScoreReadError, ScoreWriteError
from scorehost.core.score import note_tuples
from scorehost.core.scoreio import read_score, write_score

from ..conftest import CHORALE, CHORALE_3_4, QUARTET, corpus_path

PIECES = [CHORALE, CHORALE_3_4, QUARTET]


def _same_notes(a, b):
    assert len(a.tracks) == len(b.tracks)
    for x, y in zip(a.tracks, b.tracks, strict=True):
        assert note_tuples(x) == note_tuples(y), x.name


@pytest.fixture(scope="module")
def folk_tune(tmp_path_factory):
    """A folk tune from the Essen collection (ABC in the corpus), saved as MusicXML by music21."""
    opus = corpus.parse("essenFolksong/han1")
    tune = opus.scores[0] if hasattr(opus, "scores") else opus
    path = tmp_path_factory.mktemp("folk") / "tune.musicxml"
    tune.write("musicxml", fp=str(path))
    return path


@pytest.mark.parametrize("name", PIECES)
def test_musicxml_to_midi_to_score_is_exact(name, tmp_path):
    score = read_score(corpus_path(name))
    back = read_score(write_score(score, tmp_path / "piece.mid"))
    _same_notes(score, back)
    assert back == _unspelled(score)  # maps, fermatas, roles and length too


def _unspelled(score):
    """The score as MIDI holds it: no note spelled otherwise than its key spells it."""
    tracks = [
        t.model_copy(update={"notes": [n.model_copy(update={"spelling": None}) for n in t.notes]})
        for t in score.tracks
    ]
    return score.model_copy(update={"tracks": tracks})


@pytest.mark.parametrize("name", PIECES)
def test_score_json_round_trip_is_exact(name, tmp_path):
    score = read_score(corpus_path(name))
    assert read_score(write_score(score, tmp_path / "piece.json")) == score


@pytest.mark.parametrize("name", PIECES)
def test_musicxml_write_and_read_back_is_exact(name, tmp_path):
    score = read_score(corpus_path(name))
    assert read_score(write_score(score, tmp_path / "piece.musicxml")) == score


def test_folk_tune_round_trips(folk_tune, tmp_path):
    score = read_score(folk_tune)
    assert score.note_count() > 20
    for suffix in (".mid", ".json", ".musicxml"):
        back = read_score(write_score(score, tmp_path / f"tune{suffix}"))
        _same_notes(score, back)
        assert back.time_signatures == score.time_signatures


def test_writer_never_overwrites(tmp_path, chorale):
    target = tmp_path / "out.mid"
    target.write_bytes(b"precious")
    with pytest.raises(ScoreWriteError, match="already exists"):
        write_score(chorale, target)
    assert target.read_bytes() == b"precious"
    assert list(tmp_path.iterdir()) == [target]  # no temporary file left behind


def test_unknown_extension_and_missing_file(tmp_path):
    with pytest.raises(ScoreReadError, match="unknown file type"):
        read_score(tmp_path / "x.pdf")
    with pytest.raises(ScoreReadError, match="no such file"):
        read_score(tmp_path / "x.mid")


def test_size_and_note_limits(tmp_path, chorale):
    path = write_score(chorale, tmp_path / "c.json")
    with pytest.raises(LimitExceeded, match="bytes"):
        read_score(path, max_bytes=100)
    with pytest.raises(LimitExceeded, match="notes"):
        read_score(path, max_notes=10)


def test_invalid_score_json_names_the_field(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"length": 100, "tracks": [{"notes": [{"start": 0, "duration": 10, "pitch": 300}]}]}')
    with pytest.raises(ScoreReadError, match=r"tracks\.0\.notes\.0\.pitch"):
        read_score(path)
    path.write_text("{not json")
    with pytest.raises(ScoreReadError, match="not valid JSON"):
        read_score(path)


def test_score_json_accepts_bars_and_sharps_from_editors(chorale):
    from scorehost.core.scorejson import score_from_json

    data = chorale.model_dump()
    data.pop("time_signatures")
    data["bars"] = [[b.start, b.end - b.start, 4, 4] for b in chorale.bars()]
    data["keys"] = [{"tick": 0, "sharps": 3}]
    score = score_from_json(data)
    assert score.time_signatures == chorale.time_signatures
    assert score.keys[0].name() == "F# minor"  # the cadence on F# tells it from A major
    with pytest.raises(ScoreReadError, match="time signature 4/5"):
        score_from_json(data | {"bars": [[0, 480, 4, 5]]})


def test_the_published_score_schema_describes_the_format():
    from scorehost.core.scorejson import score_json_schema

    schema = score_json_schema()
    assert {"tracks", "time_signatures", "keys", "length"} <= set(schema["properties"])
