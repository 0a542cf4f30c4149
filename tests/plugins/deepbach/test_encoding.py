from __future__ import annotations

import numpy as np
import pytest

from scorehost.core.errors import RequestError
from scorehost.core.score import Note, Score, Track
from scorehost.plugins.deepbach.encoding import (
    BAR_LEN,
    FERMATA,
    HOLD,
    MODE,
    MODES,
    POS,
    REST,
    STEP,
    TONIC,
    Vocab,
    check_voice,
    decode_voice,
    encode_grid,
    encode_meta,
    repair_holds,
    voice_tracks,
)  # fmt: skip


@pytest.mark.parametrize("name", ["bach/bwv66.6", "bach/bwv269", "bach/bwv1.6"])
def test_grid_round_trip_of_corpus_chorales(name, chorale, vocab):
    score = chorale(name)
    tracks = voice_tracks(score)
    grid = encode_grid(score, vocab, tracks)
    assert grid.shape == (4, -(-score.length // STEP))
    for voice, index in enumerate(tracks):
        original = sorted((n.start, n.duration, n.pitch) for n in score.tracks[index].notes)
        decoded = sorted((n.start, n.duration, n.pitch) for n in decode_voice(grid[voice], vocab))
        assert decoded == original


def test_roles_pick_the_voices_of_a_chorale_with_an_instrument_part(chorale):
    score = chorale("bach/bwv1.6")  # a horn part above the four voices
    assert len(score.tracks) == 5
    assert [score.tracks[i].role for i in voice_tracks(score)] == ["soprano", "alto", "tenor", "bass"]


def test_metadata_of_a_pickup_in_four_four(chorale):
    score = chorale("bach/bwv66.6")  # one-beat pickup, F# minor, fermatas
    meta = encode_meta(score)
    assert meta[POS, 0] == 12  # the pickup is the last beat of a 4/4 bar
    assert meta[BAR_LEN, 0] == 16
    for bar in score.bars()[1:]:
        assert meta[POS, bar.start // STEP] == 0
    assert (meta[TONIC] == 6).all() and (meta[MODE] == MODES.index("minor")).all()
    assert meta[FERMATA].sum() > 0


def test_metadata_in_three_four(chorale):
    score = chorale("bach/bwv269")
    meta = encode_meta(score)
    assert set(meta[BAR_LEN].tolist()) == {12}
    assert meta[POS].max() == 11
    assert meta[POS, score.bars()[1].start // STEP] == 0


def test_vocab_json_round_trip(tmp_path, vocab):
    path = tmp_path / "vocab.json"
    vocab.save(path)
    assert Vocab.load(path) == vocab
    assert vocab.pitch(vocab.token(60)) == 60


def test_vocab_from_another_encoding_is_refused(vocab):
    data = vocab.to_json() | {"symbols": ["rest", "hold", "pad", "mask"]}
    with pytest.raises(ValueError, match="vocabulary"):
        Vocab.from_json(data)


def _score(tracks: list[Track]) -> Score:
    return Score(length=1920, tracks=tracks)


def test_five_voices_without_roles_are_refused():
    with pytest.raises(RequestError, match="5 tracks"):
        voice_tracks(_score([Track() for _ in range(5)]))


def test_fewer_than_four_tracks_are_refused():
    with pytest.raises(RequestError, match="needs four"):
        voice_tracks(_score([Track()]))


def test_overlapping_notes_in_a_voice_are_refused():
    track = Track(notes=[Note(start=0, duration=480, pitch=60), Note(start=240, duration=480, pitch=64)])
    with pytest.raises(RequestError, match="overlapping notes at tick 240"):
        check_voice(track, "soprano")


def test_drum_voice_is_refused():
    with pytest.raises(RequestError, match="drum"):
        check_voice(Track(is_drum=True), "bass")


def test_repair_turns_holds_after_rests_into_rests(vocab):
    row = np.array([[REST, HOLD, vocab.token(60), HOLD, REST, HOLD]])
    assert repair_holds(row).tolist() == [[REST, REST, vocab.token(60), HOLD, REST, REST]]
