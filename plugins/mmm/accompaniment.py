"""Drum, bass and chord tracks under corpus melodies, rendered by mma from the pieces' own harmony.

Multi-track infilling needs drum and bass parts, and the only offline source of them is mma
(Musical MIDI Accompaniment), which plays a groove over a chord progression. The progression
is taken from a real piece (its chordified harmony, or its chord symbols), and the piece's top
part goes back on top as the melody. Bars line up exactly because every mma bar is a source
bar: mma starts bar 1 at tick 0 (no count-in), and pickups and split bars are rendered as
short bars with mma's Truncate, taking the matching slice of the groove's pattern.
"""

from __future__ import annotations

import logging
import math
import random
import re
import subprocess
import tempfile
import warnings
from bisect import bisect_right
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from music21 import chord, converter, harmony, stream

from scorehost.core.midifile import read_midi, write_midi
from scorehost.core.musicxml import score_from_music21
from scorehost.core.score import MODE_SCALES, TICKS_PER_QUARTER, Fermata, KeySignature, Note, Score, Track

log = logging.getLogger(__name__)

MMA_TIMEOUT_S = 60
MAX_CHORD_TRACKS = 2  # with melody, drums and bass: at most five tracks
# Grooves of mma's standard library that play drums, a bass line and chords, by beats per bar
# of their pattern. 2/4 pieces use the 4/4 grooves, each bar taking one half of the pattern.
GROOVES: dict[int, tuple[str, ...]] = {
    4: (
        "8Beat", "60sRock", "BasicRock", "SoftRock", "RockBallad", "FolkRock", "Twist", "PopBallad",
        "Ballad", "Swing", "EasySwing", "JazzRock", "JazzCombo", "ModernJazz", "SlowJazz", "Foxtrot",
        "Blues", "SlowBlues", "BVFunk", "DSoul", "BossaNova", "Samba", "Rhumba", "Mambo", "ChaCha",
        "Beguine", "LightTango", "CountrySwing", "BlueGrass", "Polka", "Ska", "LFusion",
    ),
    3: (
        "Waltz", "JazzWaltz", "LatinWaltz", "RockWaltz", "ModernJazzWaltz",
        "FastJazzWaltz", "CountryWaltz", "VieneseWaltz", "BroadwayWaltz", "Afro-Cuban",
    ),
}  # fmt: skip
# Meters rendered, and the beats per bar of the groove pattern each one uses.
PATTERN_BEATS = {(4, 4): 4, (3, 4): 3, (2, 4): 4}
# Beats (from the start of a full bar) where a bar's first and second chord may begin.
GROUP_STARTS = {(4, 4): (0, 2), (3, 4): (0, 2), (2, 4): (0, 1)}

# Intervals above the root -> mma's chord name suffix. mma's "dim" is a diminished seventh,
# so the diminished triad is "mb5"; incomplete sevenths (no fifth) keep their seventh.
SUFFIXES: dict[frozenset[int], str] = {
    frozenset(k): v
    for k, v in {
        (0, 4, 7): "", (0, 3, 7): "m", (0, 3, 6): "mb5", (0, 4, 8): "aug",
        (0, 4, 7, 10): "7", (0, 3, 7, 10): "m7", (0, 4, 7, 11): "M7", (0, 3, 6, 10): "m7b5",
        (0, 3, 6, 9): "dim7", (0, 5, 7): "sus4", (0, 2, 7): "sus2",
        (0, 4, 10): "7", (0, 3, 10): "m7", (0, 4, 11): "M7", (0, 4): "", (0, 3): "m",
    }.items()
}  # fmt: skip
_SHARP_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
_FLAT_NAMES = ("C", "Db", "D", "Eb", "E", "F", "Gb", "G", "Ab", "A", "Bb", "B")


class MmaError(RuntimeError):
    """mma is missing, failed, or rendered something other than what it was asked."""


class Progression(list[list[str]]):
    """One list of mma chord names per bar (one or two), with what mma needs besides.

    beats: each bar's length in quarters (a pickup or a split bar is short); offsets: where
    each bar starts inside a full bar (a one-beat pickup in 4/4 starts at beat 3, i.e. 3).
    """

    def __init__(
        self,
        bars: list[list[str]],
        meter: tuple[int, int],
        beats: list[Fraction],
        offsets: list[Fraction],
        key: str | None = None,
        tempo: int | None = None,
    ):
        super().__init__(bars)
        self.meter, self.beats, self.offsets, self.key, self.tempo = meter, beats, offsets, key, tempo


@dataclass(frozen=True)
class _Sonority:
    start: int  # tick
    pitch_classes: frozenset[int]
    root: int
    bass: int
    spellings: tuple[tuple[int, str], ...]  # the score's own names of its pitch classes


# ---- progression ------------------------------------------------------------------------


def progression_from_score(score: stream.Score, max_bars: int = 64) -> Progression | None:
    """The piece's chords, at most two a bar, as mma names; None for meters mma is not given
    (anything but 4/4, 3/4, 2/4, or a meter change) and for pieces without harmony."""
    return _progression(score, score_from_music21(score), max_bars)


def _progression(m21: stream.Score, core: Score, max_bars: int) -> Progression | None:
    meters = {(ts.numerator, ts.denominator) for ts in core.time_signatures}
    # music21's own signatures too: a part without measures reads as 4/4 whatever it states
    meters |= {(ts.numerator, ts.denominator) for ts in m21.recurse().getElementsByClass("TimeSignature")}
    meter = meters.pop() if len(meters) == 1 else None
    if meter not in PATTERN_BEATS:
        return None
    bars = core.bars()[:max_bars]
    beats = [Fraction(b.end - b.start, TICKS_PER_QUARTER) for b in bars]
    offsets = _bar_offsets(beats, meter[0])
    sonorities, symbols = _harmony(m21)
    if not sonorities:
        return None
    starts = [s.start for s in sonorities]
    names, voiced = [], 0
    for bar, length, offset in zip(bars, beats, offsets, strict=True):
        ticks = [bar.start + k * TICKS_PER_QUARTER for k in range(math.ceil(length))]
        # over a rest the last chord goes on sounding
        heard = [sonorities[max(bisect_right(starts, t) - 1, 0)] for t in ticks]
        voiced += sum(len(s.pitch_classes) > 1 for s in heard)
        names.append(_bar_chords(meter, offset, [_name(s, core.key_at(s.start)) for s in heard]))
    if not symbols and voiced * 2 < sum(math.ceil(b) for b in beats):
        return None  # a single line: chordify finds no harmony in it
    return Progression(names, meter, beats, offsets, core.keys[0].name(), _tempo(m21))


def _bar_offsets(beats: list[Fraction], full: int) -> list[Fraction]:
    """Where each bar starts inside a full bar: a pickup ends its bar; a short bar after a
    short bar (a bar split at a repeat sign) goes on where the first part stopped."""
    offsets, position = [], Fraction(0)
    for index, length in enumerate(beats):
        if index == 0 and length < full:
            position = full - length
        elif position + length > full:
            position = Fraction(0)
        offsets.append(position)
        position = (position + length) % full
    return offsets


def _harmony(m21: stream.Score) -> tuple[list[_Sonority], bool]:
    """The piece's sonorities in time order, and whether they are its own chord symbols."""
    symbols = [
        s for s in m21.recurse().getElementsByClass(harmony.ChordSymbol) if not isinstance(s, harmony.NoChord)
    ]
    if symbols:
        found = [_sonority(s, s.getOffsetInHierarchy(m21)) for s in symbols if s.pitches]
        return sorted(found, key=lambda s: s.start), True
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        chords = m21.chordify().flatten().getElementsByClass(chord.Chord)
        return [_sonority(c, c.offset) for c in chords if c.pitches], False


def _sonority(c: chord.Chord, offset) -> _Sonority:
    tick = round(Fraction(offset).limit_denominator(10_000) * TICKS_PER_QUARTER)
    pcs = frozenset(p.pitchClass for p in c.pitches)
    spellings = tuple((p.pitchClass, p.name.replace("-", "b")) for p in c.pitches)
    return _Sonority(tick, pcs, c.root().pitchClass, c.bass().pitchClass, spellings)


def _bar_chords(meter: tuple[int, int], offset: Fraction, beat_names: list[str]) -> list[str]:
    """One chord per beat group (half bar): the one heard on most of its beats, else the first."""
    groups: dict[int, list[str]] = {}
    for k, name in enumerate(beat_names):
        groups.setdefault(_group(meter, offset + k), []).append(name)
    chosen = [Counter(names).most_common(1)[0][0] for names in groups.values()]
    return [name for i, name in enumerate(chosen) if i == 0 or name != chosen[i - 1]]


def _group(meter: tuple[int, int], beat: Fraction) -> int:
    return sum(start <= beat for start in GROUP_STARTS[meter]) - 1


def _name(sonority: _Sonority, key: KeySignature) -> str:
    """An mma chord name: an exact chord shape first (music21's root, then the bass, then any
    note as root), then the largest triad or seventh inside the sonority (passing notes,
    suspensions), else the key's triad on the bass note (octaves, open fifths)."""
    pcs = sonority.pitch_classes
    roots = list(dict.fromkeys([sonority.root, sonority.bass, *sorted(pcs)]))
    for root in roots:
        suffix = SUFFIXES.get(frozenset((p - root) % 12 for p in pcs))
        if suffix is not None:
            return _root_name(root, sonority, key) + suffix
    best = None
    for rank, root in enumerate(roots):
        intervals = frozenset((p - root) % 12 for p in pcs)
        for shape, suffix in SUFFIXES.items():
            if len(shape) >= 3 and shape <= intervals and (best is None or len(shape) > best[0]):
                best = (len(shape), rank, root, suffix)
    if best is not None:
        return _root_name(best[2], sonority, key) + best[3]
    return _triad_on(sonority, key)


def _triad_on(sonority: _Sonority, key: KeySignature) -> str:
    bass = sonority.bass
    scale = [(key.tonic + step) % 12 for step in MODE_SCALES[key.mode]]
    if bass not in scale or (key.mode == "minor" and (bass - key.tonic) % 12 == 7):
        return _root_name(bass, sonority, key)  # a major triad (the dominant of a minor key too)
    degree = scale.index(bass)
    shape = frozenset((scale[(degree + step) % 7] - bass) % 12 for step in (0, 2, 4))
    return _root_name(bass, sonority, key) + SUFFIXES[shape]


def _root_name(pitch_class: int, sonority: _Sonority, key: KeySignature) -> str:
    """The root as the score spells it, unless mma may not know the name (Cb, E#, F##)."""
    spelled = dict(sonority.spellings).get(pitch_class)
    if spelled in _SHARP_NAMES or spelled in _FLAT_NAMES:
        return spelled
    return (_FLAT_NAMES if key.sharps < 0 else _SHARP_NAMES)[pitch_class]


def _tempo(m21: stream.Score) -> int | None:
    marks = m21.recurse().getElementsByClass("MetronomeMark")
    bpm = marks[0].getQuarterBPM() if marks else None
    return round(bpm) if bpm else None


# ---- mma --------------------------------------------------------------------------------


def mma_source(
    progression: list[list[str]],
    groove: str,
    tempo: int,
    meter: tuple[int, int] | None = None,
    seed: int | None = None,
) -> str:
    """An .mma file playing the progression in the groove, bar for bar.

    A Progression brings its meter and bar lengths; a plain list is full bars of `meter`.
    """
    meter = meter or getattr(progression, "meter", (4, 4))
    if meter not in PATTERN_BEATS:
        raise ValueError(f"mma renders 4/4, 3/4 and 2/4, not {meter[0]}/{meter[1]}")
    pattern = PATTERN_BEATS[meter]
    full = [Fraction(meter[0])] * len(progression)
    beats = getattr(progression, "beats", full)
    offsets = getattr(progression, "offsets", [Fraction(0)] * len(progression))
    lines = [f"// {len(progression)} bars", f"Tempo {tempo}", f"Groove {groove}"]
    # Time after Groove: a groove of another length would lose its patterns, not shift bars.
    lines += [f"Time {pattern}", f"TimeSig {meter[0]} {meter[1]}"]
    lines += [f"RndSeed {seed}"] if seed is not None else []
    half = 0  # 2/4 bars alternate between the halves of a 4/4 pattern
    for number, (chords, length, offset) in enumerate(zip(progression, beats, offsets, strict=True), 1):
        side = offset + half
        if length < pattern or side:
            lines.append(f"Truncate {float(length):g} Side={float(side) + 1:g}")
        lines.append(f"{number} {' '.join(_slots(meter, chords, length, offset))}")
        if pattern > meter[0] and offset + length == meter[0]:
            half = meter[0] - half
    return "\n".join(lines) + "\n"


def _slots(meter: tuple[int, int], chords: list[str], length: Fraction, offset: Fraction) -> list[str]:
    """One chord name per beat of the bar, "/" where the chord goes on."""
    groups = list(dict.fromkeys(_group(meter, offset + k) for k in range(math.ceil(length))))
    slots, previous = [], None
    for k in range(math.ceil(length)):
        name = chords[min(groups.index(_group(meter, offset + k)), len(chords) - 1)]
        slots.append("/" if name == previous else name)
        previous = name
    return slots


def render(source: str, workdir: Path) -> Score:
    """Run mma on an .mma text and read what it plays, tracks named by role."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "in.mma").write_text(source)
    out = workdir / "out.mid"
    out.unlink(missing_ok=True)
    try:
        done = subprocess.run(
            ["mma", "-f", "out.mid", "in.mma"],
            cwd=workdir,
            capture_output=True,
            text=True,
            timeout=MMA_TIMEOUT_S,
        )
    except FileNotFoundError as exc:
        raise MmaError("mma is not installed (Debian/Ubuntu: apt-get install mma)") from exc
    except subprocess.TimeoutExpired as exc:
        raise MmaError(f"mma took more than {MMA_TIMEOUT_S} s") from exc
    said = " ".join((done.stdout + done.stderr).split())
    if done.returncode != 0 or not out.exists():
        error = said[said.find("Error:") :] if "Error:" in said else said[-300:]
        raise MmaError(f"mma failed (exit {done.returncode}): {error}")
    _check_bar_count(source, said)
    return _arranged(read_midi(out))


def _check_bar_count(source: str, said: str) -> None:
    """mma reports the bars it wrote; anything but one per chord line would shift the bars."""
    wanted = len(re.findall(r"^\d+ ", source, flags=re.M))
    written = re.search(r"\((\d+) bars", said)
    if written and int(written.group(1)) != wanted:
        raise MmaError(f"mma wrote {written.group(1)} bars for {wanted} chord lines")


def _arranged(rendered: Score) -> Score:
    """Drums in one track, mma's Bass and Walk tracks as one bass line, the busiest chord,
    strum and arpeggio tracks; riffs on other instruments (a sax 'Bass-Sax') are left out."""
    drums = [t for t in rendered.tracks if t.is_drum]
    bass = [t for t in rendered.tracks if not t.is_drum and t.name.lower() in ("bass", "walk", "walk-main")]
    chords = [t for t in rendered.tracks if t.name.split("-")[0].lower() in ("chord", "plectrum", "arpeggio")]
    chords = sorted((t for t in chords if t.notes), key=lambda t: -len(t.notes))[:MAX_CHORD_TRACKS]
    tracks = [
        _merged(drums, "Drums", "drums"),
        _merged(bass, "Bass", "bassline"),
        *(
            t.model_copy(update={"name": "Chords" + f" {i + 1}" * (i > 0), "role": "chords"})
            for i, t in enumerate(chords)
        ),
    ]
    tracks = [t for t in tracks if t is not None and t.notes]
    return rendered.model_copy(update={"tracks": tracks})


def _merged(tracks: list[Track], name: str, role: str) -> Track | None:
    """One track of several (mma's Bass and Walk take turns), with the busiest one's program."""
    if not tracks:
        return None
    busiest = max(tracks, key=lambda t: len(t.notes))
    notes = sorted({n.key(): n for t in tracks for n in t.notes}.values(), key=Note.key)
    return Track(name=name, program=busiest.program, is_drum=busiest.is_drum, role=role, notes=notes)


# ---- the accompanied piece ---------------------------------------------------------------


def accompanied_piece(melody_score: Score | stream.Score, accompaniment: Score) -> Score:
    """The source's top part (role "melody") over the accompaniment, with the source's meter
    and key maps, cut at the end of the last bar the accompaniment plays in.

    Both share tick 0 as the start of the first source bar (pickup included): mma renders the
    source bars one for one from its tick 0, so no shift is needed, only the cut."""
    source = score_from_music21(melody_score) if isinstance(melody_score, stream.Stream) else melody_score
    onsets = [n.start for t in accompaniment.tracks for n in t.notes]
    if not source.tracks or not onsets:
        raise ValueError("accompanied_piece needs a source with a part and an accompaniment with notes")
    end = source.bar_at(max(onsets)).end
    melody = source.tracks[0].model_copy(update={"role": "melody", "name": source.tracks[0].name or "Melody"})
    tracks = [_cut(t, end) for t in (melody, *accompaniment.tracks)]
    tracks = [t for t in tracks if t.notes][: 1 + 2 + MAX_CHORD_TRACKS]
    return Score(
        title=source.title,
        length=end,
        tracks=tracks,
        time_signatures=[ts for ts in source.time_signatures if ts.tick < end],
        keys=[k for k in source.keys if k.tick < end],
        tempos=[t for t in accompaniment.tempos if t.tick < end],
        fermatas=[
            Fermata(tick=f.tick, track=None if f.track is None else 0)
            for f in source.fermatas
            if f.tick < end and f.track in (None, 0)
        ],
    )


def _cut(track: Track, end: int) -> Track:
    notes = [
        n.model_copy(update={"duration": min(n.end, end) - n.start}) if n.end > end else n
        for n in track.notes
        if n.start < end
    ]
    return track.model_copy(update={"notes": notes})


# ---- the training set --------------------------------------------------------------------


def default_sources(limit: int | None = None) -> list[tuple[str, Path]]:
    """(stable piece name, path) of corpus pieces with real harmony: the lead sheets, which
    carry chord symbols, then the Bach chorales (one file a piece, MusicXML preferred over
    Humdrum). Folk-song collections are left out: single lines in many-tune files."""
    from music21 import common, corpus

    root = Path(common.getCorpusFilePath())
    chorales: dict[str, Path] = {}
    for path in sorted(Path(p) for p in corpus.getComposer("bach")):
        if path.suffix in (".mxl", ".xml", ".krn") and path.stem.startswith("bwv"):
            name = path.relative_to(root).with_suffix("").as_posix()
            if name not in chorales or chorales[name].suffix == ".krn":
                chorales[name] = path
    sheets = {p.relative_to(root).with_suffix("").as_posix(): p for p in (root / "leadSheet").glob("*.mxl")}
    return [*sorted(sheets.items()), *sorted(chorales.items())][:limit]


def accompanied_name(path: Path, out_dir: Path) -> str:
    """The name of a written piece, "bach/bwv66.6--Swing": its source's name, "--", the groove."""
    return path.relative_to(out_dir).with_suffix("").as_posix()


def build_accompanied_set(
    out_dir: Path,
    sources: list[tuple[str, Path]],
    seed: int,
    workers: int = 1,
    grooves_per_piece: int = 1,
) -> list[Path]:
    """Render each source under seeded grooves into out_dir/<name>--<groove>.mid (a name with
    "/" makes subfolders); pieces that cannot be rendered are skipped with a warning."""
    jobs = [(out_dir, name, path, seed, grooves_per_piece) for name, path in sources]
    if workers <= 1:
        written = [_build_piece(job) for job in jobs]
    else:
        with ProcessPoolExecutor(workers) as pool:
            written = list(pool.map(_build_piece, jobs))
    return [path for paths in written for path in paths]


def _build_piece(job: tuple[Path, str, Path, int, int]) -> list[Path]:
    out_dir, name, path, seed, count = job
    rng = random.Random(f"{seed}:{name}")  # per piece: the same grooves whatever the order
    try:
        m21 = _parse(path)
        core = score_from_music21(m21)
        progression = _progression(m21, core, max_bars=64)
        if progression is None:
            log.warning("skipped %s: no 4/4, 3/4 or 2/4 harmony to accompany", name)
            return []
        grooves = GROOVES[PATTERN_BEATS[progression.meter]]
        written = []
        for groove in rng.sample(grooves, min(count, len(grooves))):
            bpm = progression.tempo or rng.randrange(72, 140, 4)
            source = mma_source(progression, groove, bpm, seed=rng.randrange(1 << 30))
            with tempfile.TemporaryDirectory(prefix="mma-") as work:
                piece = accompanied_piece(core, render(source, Path(work)))
            target = out_dir / f"{name}--{groove}.mid"
            target.parent.mkdir(parents=True, exist_ok=True)
            write_midi(piece.model_copy(update={"title": piece.title or name}), target)
            written.append(target)
        return written
    except Exception as exc:  # music21, mma and odd corpus files fail in many ways
        log.warning("skipped %s: %s", name, exc)
        return []


def _parse(path: Path) -> stream.Score:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parsed = converter.parse(str(path))
    if isinstance(parsed, stream.Opus):
        raise ValueError("the file holds several pieces")
    if not isinstance(parsed, stream.Score):
        wrapper = stream.Score()
        wrapper.insert(0, parsed)
        return wrapper
    return parsed
