"""MusicXML reading of what real scores hold."""

import pytest
from music21 import chord, clef, corpus, key, layout, meter, note, stream, tie

from scorehost.core.errors import ScoreReadError
from scorehost.core.score import note_tuples
from scorehost.core.scoreio import read_score

from ..conftest import CHORALE, corpus_path


def test_chorale_reads_as_four_voices_with_pickup_key_and_fermatas(chorale):
    assert [t.role for t in chorale.tracks] == ["soprano", "alto", "tenor", "bass"]
    assert chorale.bars()[0].number == 0 and chorale.bars()[0].end == 480  # one-beat pickup
    assert chorale.keys[0].name() == "F# minor"
    assert {f.tick for f in chorale.fermatas}  # phrase ends are marked
    assert all(n.pitch > 0 for t in chorale.tracks for n in t.notes)


def _two_staff_chorale(name: str) -> stream.Score:
    """The corpus chorale rewritten as a keyboard-style score: S+A on one staff, T+B on the other."""
    source = corpus.parse(name)
    parts = list(source.parts)
    result = stream.Score()
    staves = []
    for number, (upper, lower) in enumerate([(parts[0], parts[1]), (parts[2], parts[3])], start=1):
        staff = stream.PartStaff(id=f"staff{number}")
        for m_upper, m_lower in zip(
            upper.getElementsByClass(stream.Measure), lower.getElementsByClass(stream.Measure), strict=True
        ):
            measure = stream.Measure(number=m_upper.number)
            if m_upper.timeSignature:
                measure.timeSignature = meter.TimeSignature(m_upper.timeSignature.ratioString)
            if m_upper.keySignature:
                measure.keySignature = key.KeySignature(m_upper.keySignature.sharps)
            measure.insert(0, clef.TrebleClef() if number == 1 else clef.BassClef())
            measure.paddingLeft = m_upper.paddingLeft
            for voice_id, source_measure in (("1", m_upper), ("2", m_lower)):
                voice = stream.Voice(id=voice_id)
                for element in source_measure.notesAndRests:
                    voice.insert(element.offset, element.__deepcopy__())
                measure.insert(0, voice)
            staff.append(measure)
        staves.append(staff)
        result.insert(0, staff)
    result.insert(0, layout.StaffGroup(staves, symbol="brace"))
    return result


def test_satb_on_two_staves_with_two_voices_each_splits_into_four_tracks(tmp_path):
    path = tmp_path / "two-staves.musicxml"
    _two_staff_chorale(CHORALE).write("musicxml", fp=str(path))
    two_staff = read_score(path)
    original = read_score(corpus_path(CHORALE))
    assert [t.role for t in two_staff.tracks] == ["soprano", "alto", "tenor", "bass"]
    for a, b in zip(original.tracks, two_staff.tracks, strict=True):
        assert note_tuples(a) == note_tuples(b)
    assert two_staff.time_signatures == original.time_signatures
    assert two_staff.keys == original.keys


def _notation_sampler() -> stream.Score:
    """Ties across a barline, a triplet, a chord in one voice, rests, a key and a meter change."""
    part = stream.Part()
    m1 = stream.Measure(number=1)
    m1.append([meter.TimeSignature("4/4"), key.Key("d", "minor")])
    tied = note.Note("A4", quarterLength=2)
    tied.tie = tie.Tie("start")
    m1.append(note.Note("D4", quarterLength=1))
    m1.append(note.Rest(quarterLength=1))
    m1.append(tied)
    m2 = stream.Measure(number=2)
    end = note.Note("A4", quarterLength=1)
    end.tie = tie.Tie("stop")
    m2.append(end)
    for pitch in ("B4", "C5", "D5"):
        m2.append(note.Note(pitch, quarterLength=1 / 3))
    m2.append(chord.Chord(["F4", "A4", "D5"], quarterLength=2))
    m3 = stream.Measure(number=3)
    m3.append([meter.TimeSignature("3/4"), key.Key("G")])
    m3.append(note.Note("G4", quarterLength=3))
    part.append([m1, m2, m3])
    score = stream.Score()
    score.insert(0, part)
    return score


def test_ties_triplets_chords_rests_and_changes(tmp_path):
    path = tmp_path / "sampler.musicxml"
    _notation_sampler().write("musicxml", fp=str(path))
    score = read_score(path)
    assert note_tuples(score.tracks[0]) == [
        (0, 62, 480, 80),  # D4, then a rest
        (960, 69, 1440, 80),  # A4 tied across the barline: one note
        (2400, 71, 160, 80),
        (2560, 72, 160, 80),
        (2720, 74, 160, 80),  # triplet eighths
        (2880, 65, 960, 80),
        (2880, 69, 960, 80),
        (2880, 74, 960, 80),  # a chord in one voice
        (3840, 67, 1440, 80),
    ]
    assert [(k.tick, k.name()) for k in score.keys] == [(0, "D minor"), (3840, "G major")]
    assert [(t.tick, t.numerator) for t in score.time_signatures] == [(0, 4), (3840, 3)]
    assert score.length == 3840 + 1440


def test_mode_is_inferred_when_the_file_only_gives_a_signature(tmp_path):
    """One flat, ending on D: D minor, not F major."""
    part = stream.Part()
    measure = stream.Measure(number=1)
    measure.append([meter.TimeSignature("4/4"), key.KeySignature(-1)])
    for pitch in ("D4", "F4", "A4", "D4"):
        measure.append(note.Note(pitch))
    part.append(measure)
    path = tmp_path / "minor.musicxml"
    part.write("musicxml", fp=str(path))
    assert read_score(path).keys[0].name() == "D minor"


def test_truncated_file_gets_one_clear_error(tmp_path):
    whole = tmp_path / "whole.musicxml"
    _notation_sampler().write("musicxml", fp=str(whole))
    truncated = tmp_path / "truncated.musicxml"
    truncated.write_bytes(whole.read_bytes()[:1500])
    with pytest.raises(ScoreReadError, match="truncated.musicxml is not a readable MusicXML file"):
        read_score(truncated)


def test_written_score_is_engraved_for_reading(tmp_path):
    """Clefs that fit each voice, no natural signs on plain notes, black keys spelled for the key."""
    from scorehost.core.score import KeySignature, Note, Score, Track
    from scorehost.core.scoreio import write_score

    def track(name, pitches):
        return Track(
            name=name, notes=[Note(start=i * 480, duration=480, pitch=p) for i, p in enumerate(pitches)]
        )

    score = Score(
        length=4 * 480,
        tracks=[
            track("Soprano", [72, 70, 69, 65]),
            track("Tenor", [64, 62, 60, 65]),
            track("Bass", [41, 43, 46, 41]),
        ],
        keys=[KeySignature(tick=0, tonic=5)],  # F major: B-flat, not A-sharp
    )
    path = tmp_path / "engraved.musicxml"
    write_score(score, path)
    parts = list(converter_parse(path).parts)
    clefs = [type(p.recurse().getElementsByClass(clef.Clef).first()).__name__ for p in parts]
    assert clefs == ["TrebleClef", "Treble8vbClef", "BassClef"]
    names = [n.nameWithOctave for n in parts[0].recurse().notes]
    assert names == ["C5", "B-4", "A4", "F4"]
    text = path.read_text()
    assert "<accidental>natural</accidental>" not in text and "Music21" not in text
    assert note_tuples(read_score(path).tracks[2]) == note_tuples(score.tracks[2])


def converter_parse(path):
    from music21 import converter

    return converter.parse(str(path))


@pytest.mark.parametrize(
    "name",
    [
        "haydn/opus74no1/movement1",
        "haydn/opus74no1/movement3",
        "haydn/opus1no1/movement1",
        "haydn/opus1no1/movement3",  # second voices in 33-71% of the bars; an over-full bar
        "haydn/opus1no1/movement4",
        "haydn/opus1no1/movement5",
        "mozart/k155/movement1",
    ],
)
def test_a_four_staff_quartet_reads_as_four_tracks_named_as_its_parts(name):
    """Each staff one track, even where a staff has a second voice in many bars (double stops,
    divisi): issue 13 saw Haydn's op. 1 no. 1, iii read as 7 tracks. One staff's over-full bar
    (its first violin's bar 3, by a stray rest) moves no barline: the movement reads at all."""
    from music21 import converter

    path = corpus_path(name)
    parts = [p.partName for p in converter.parse(str(path)).parts]
    score = read_score(path)
    assert len(parts) == 4 and [t.name for t in score.tracks] == parts
    assert all(t.notes for t in score.tracks)
    meter = score.time_signatures[0]
    assert all(bar.end - bar.start <= meter.bar_ticks for bar in score.bars())  # none over-full
