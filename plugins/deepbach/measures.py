"""What a harmony teacher checks in a four-voice score beyond parallels, judged the same way for
Bach and for the model.

- **Chords on the beats**: the notes sounding at each beat (the denominator's note, the dotted
  one in 6/8, 9/8, 12/8), passing notes and suspensions included, spelled for the key
  (core.spelling.key_spelling) and handed to music21's Chord: a beat is harmonic when it is a
  triad (isTriad) or a seventh chord (isSeventh), or an incomplete chord of one or two pitch
  classes a triad holds (a unison, third, fourth, fifth or sixth: Bach's final chords often
  leave out the fifth); every other beat is counted in `non_chord_beats`.
- **Cadences**: the final chord (what sounds at the end) has the tonic the melody ends in in the
  bass (`final_tonic_bass`: critic.ending_tonic, the key's tonic unless the melody's last note
  lies outside the tonic triad, a modal ending, whose final that note is), and the key map's own
  tonic (`final_key_tonic_bass`, whatever the melody does); it is a root-position tonic chord reached from a root-position chord (a seventh
  chord too) on the fifth or fourth degree, V-I or IV-I (`final_cadence`). Under each fermata: a
  root-position major or minor chord (`fermata_root_position`), the key's tonic in the bass
  (`fermata_tonic_bass`).
- **Cross-relations**: two voices sounding the same letter with different accidentals (B and
  B flat), in one sonority or from one sonority to the next (unless the first voice makes the
  inflection itself).
- **Inner-voice rhythm** (alto, tenor, bass): a note struck off the eighth-note grid and held
  past its sixteenth, a note longer than a dotted eighth that lasts an odd number of
  sixteenths (a quarter tied to a sixteenth, a double-dotted quarter), a note shorter than a
  sixteenth, a rest shorter than an eighth between two notes.
"""

from __future__ import annotations

from bisect import bisect_right
from functools import cache

from music21 import chord

from scorehost.core.score import Score
from scorehost.core.spelling import key_spelling

from .critic import ending_tonic
from .encoding import beat_starts

COUNTS = ("beats", "non_chord_beats", "cross_relations", "rhythm_faults")
CADENCES = (
    "pieces",
    "final_tonic_bass",
    "final_key_tonic_bass",
    "final_cadence",
    "fermatas",
    "fermata_root_position",
    "fermata_tonic_bass",
)
MEASURES = COUNTS + CADENCES
DYADS = frozenset({0, 3, 4, 5, 7, 8, 9})  # pitch-class intervals an incomplete triad may hold
EIGHTH, SIXTEENTH = 240, 120


@cache
def _chord(spelled: tuple[str, ...]) -> tuple[bool, int, bool]:
    """(harmonic, root pitch class, a major or minor triad or a consonant incomplete one) of
    pitches spelled as music21 names them ('E-4'), lowest first."""
    made = chord.Chord(spelled)
    classes = {p.pitchClass for p in made.pitches}
    root = made.root().pitchClass
    if len(classes) <= 2:
        low, high = min(classes), max(classes)
        consonant = (high - low) % 12 in DYADS
        return consonant, root, consonant
    triad = made.isTriad()
    return triad or made.isSeventh(), root, triad and (made.isMajorTriad() or made.isMinorTriad())


def chord_at(score: Score, pitches: list[int], tick: int) -> tuple[bool, int, bool] | None:
    """_chord of the MIDI pitches sounding at tick, spelled for the key there (None: silence)."""
    if not pitches:
        return None
    key = score.key_at(tick)
    names = tuple(_m21_name(key_spelling(p, key), p) for p in sorted(pitches))
    return _chord(names)


def _m21_name(spelling: str, midi: int) -> str:
    """'Eb', 63 -> 'E-4' (the octave from the MIDI pitch and the letter: B#3 is MIDI 60)."""
    letter, accidental = spelling[0], spelling[1:].replace("b", "-")
    natural = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}[letter]
    alter = accidental.count("#") - accidental.count("-")
    octave = (midi - natural - alter) // 12 - 1
    return f"{letter}{accidental}{octave}"


class Voices:
    """The notes of the four voices (soprano first), for what sounds where."""

    def __init__(self, score: Score, tracks: list[int]) -> None:
        self.score = score
        self.notes = [sorted(score.tracks[t].notes, key=lambda n: n.start) for t in tracks]
        self.starts = [[n.start for n in notes] for notes in self.notes]
        self.onsets = [set(starts) for starts in self.starts]

    def at(self, voice: int, tick: int) -> int | None:
        """The pitch the voice sounds at tick, or None."""
        i = bisect_right(self.starts[voice], tick) - 1
        if i >= 0 and self.notes[voice][i].end > tick:
            return self.notes[voice][i].pitch
        return None

    def sounding(self, tick: int) -> list[int | None]:
        return [self.at(v, tick) for v in range(len(self.notes))]

    def end(self) -> int:
        return max((notes[-1].end for notes in self.notes if notes), default=0)


def measure(score: Score, tracks: list[int]) -> dict[str, int]:
    """The counts of MEASURES for the voices tracks (soprano first) of score."""
    voices = Voices(score, tracks)
    counts = dict.fromkeys(MEASURES, 0)
    for tick in beat_starts(score):
        found = chord_at(score, [p for p in voices.sounding(tick) if p is not None], tick)
        if found is not None:
            counts["beats"] += 1
            counts["non_chord_beats"] += not found[0]
    counts["cross_relations"] = cross_relations(voices)
    counts["rhythm_faults"] = sum(rhythm_faults(score, notes) for notes in voices.notes[1:])
    counts |= cadences(voices)
    return counts


def cadences(voices: Voices) -> dict[str, int]:
    score = voices.score
    out = dict.fromkeys(CADENCES, 0)
    end = voices.end()
    if not end or not voices.notes[-1]:
        return out
    out["pieces"] = 1
    key_tonic = score.key_at(end - 1).tonic
    tonic = ending_tonic(key_tonic, voices.at(0, end - 1))
    final = _root_position(voices, end - 1)
    last_bass = voices.at(len(voices.notes) - 1, end - 1)
    out["final_tonic_bass"] = int(last_bass is not None and last_bass % 12 == tonic)
    out["final_key_tonic_bass"] = int(last_bass is not None and last_bass % 12 == key_tonic)
    bass = voices.notes[-1]
    if final == tonic and len(bass) > 1:
        before = _root_position(voices, bass[-2].start, sevenths=True)
        out["final_cadence"] = int(before is not None and (before - tonic) % 12 in (5, 7))
    for tick in sorted({f.tick for f in score.fermatas}):
        if all(p is None for p in voices.sounding(tick)):
            continue
        out["fermatas"] += 1
        root = _root_position(voices, tick)
        out["fermata_root_position"] += root is not None
        out["fermata_tonic_bass"] += root is not None and root == score.key_at(tick).tonic
    return out


def _root_position(voices: Voices, tick: int, sevenths: bool = False) -> int | None:
    """The root of the chord sounding at tick when it is a major or minor chord (or a consonant
    incomplete one; with sevenths, a seventh chord too) with its root in the bass; else None."""
    sounding = voices.sounding(tick)
    pitches = [p for p in sounding if p is not None]
    found = chord_at(voices.score, pitches, tick)
    if found is None or not (found[2] or (sevenths and found[0])) or sounding[-1] is None:
        return None
    return found[1] if sounding[-1] % 12 == found[1] else None


def cross_relations(voices: Voices) -> int:
    """Pairs of voices sounding one letter with two accidentals, in a sonority or across two."""
    score = voices.score
    onsets = sorted({t for starts in voices.starts for t in starts})
    count = 0
    previous: list[int | None] = [None] * len(voices.notes)
    for tick in onsets:
        now = voices.sounding(tick)
        key = score.key_at(tick)
        letter = lambda p, key=key: key_spelling(p, key)[0]  # noqa: E731
        struck = [tick in onsets for onsets in voices.onsets]
        for i, a in enumerate(now):
            for j in range(len(now)):
                b = now[j]
                if b is None or i == j or not struck[j]:
                    continue
                if a is not None and i < j and _clash(a, b, letter):
                    count += 1  # in one sonority
                before = previous[i]
                if before is not None and (a is None or a % 12 != b % 12) and _clash(before, b, letter):
                    count += 1  # from one sonority to the next, another voice
        previous = now
    return count


def _clash(a: int, b: int, letter) -> bool:
    return a % 12 != b % 12 and letter(a) == letter(b)


def rhythm_faults(score: Score, notes) -> int:
    """Notes of one voice with a rhythm a chorale voice does not sing (see the module's doc)."""
    count = 0
    for i, note in enumerate(notes):
        offset = (note.start - _nominal_bar_start(score, note.start)) % EIGHTH
        odd_long = note.duration > 3 * SIXTEENTH and note.duration % EIGHTH
        gap = notes[i + 1].start - note.end if i + 1 < len(notes) else 0
        count += bool(
            (offset and note.duration > SIXTEENTH)
            or odd_long
            or note.duration < SIXTEENTH
            or 0 < gap < EIGHTH
        )
    return count


def _nominal_bar_start(score: Score, tick: int) -> int:
    bar = score.bar_at(tick)
    if bar.index == 0 and bar.is_partial:
        return bar.end - bar.time_signature.bar_ticks
    return bar.start
