from scorehost.core.score import KeySignature, Note, Score, TimeSignature, Track


def _score(signatures, length):
    return Score(
        length=length,
        time_signatures=[TimeSignature(tick=t, numerator=n, denominator=d) for t, n, d in signatures],
    )


def test_bars_of_a_pickup_are_numbered_from_zero():
    score = _score([(0, 4, 4), (480, 4, 4)], 480 + 4 * 1920)
    bars = score.bars()
    assert [(b.number, b.start, b.end) for b in bars[:3]] == [(0, 0, 480), (1, 480, 2400), (2, 2400, 4320)]
    assert bars[0].is_partial and not bars[1].is_partial
    assert len(bars) == 5


def test_meter_change_and_short_last_bar():
    score = _score([(0, 3, 4), (2880, 6, 8)], 2880 + 1440 + 720)
    bars = score.bars()
    assert [(b.start, b.end, b.time_signature.numerator) for b in bars] == [
        (0, 1440, 3),
        (1440, 2880, 3),
        (2880, 4320, 6),
        (4320, 5040, 6),
    ]
    assert bars[0].number == 1  # no pickup: numbering starts at 1
    assert score.bar_at(4400).start == 4320


def test_key_signature_sharps_and_modes():
    assert KeySignature(tick=0, tonic=6, mode="minor").sharps == 3  # F# minor
    assert KeySignature(tick=0, tonic=5, mode="major").sharps == -1  # F major
    assert KeySignature(tick=0, tonic=2, mode="dorian").sharps == 0  # D dorian
    d_minor = KeySignature.from_sharps(0, -1, "minor")
    assert (d_minor.tonic, d_minor.name()) == (2, "D minor")
    assert KeySignature(tick=0, tonic=9, mode="minor").pitch_classes == frozenset({9, 11, 0, 2, 4, 5, 7})


def test_track_lookup_by_number_name_and_role():
    score = Score(length=100, tracks=[Track(name="Violin", role="melody"), Track(name="Cello")])
    assert score.track_index("1") == 1
    assert score.track_index("cello") == 1
    assert score.track_index("melody") == 0
    for bad in ("viola", "5"):
        try:
            score.track_index(bad)
        except KeyError as exc:
            assert "track" in str(exc)
        else:
            raise AssertionError(bad)


def test_normalized_sorts_notes_so_equal_music_compares_equal():
    a = Score(
        length=960,
        tracks=[
            Track(notes=[Note(start=480, duration=480, pitch=62), Note(start=0, duration=480, pitch=60)])
        ],
    )
    b = Score(length=960, tracks=[Track(notes=list(reversed(a.tracks[0].notes)))])
    assert a != b and a.normalized() == b.normalized()


def test_maps_must_start_at_zero_and_increase():
    import pytest
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="tick 0"):
        _score([(480, 4, 4)], 1000)
    with pytest.raises(ValidationError, match="increasing"):
        _score([(0, 4, 4), (1920, 3, 4), (960, 4, 4)], 5000)
