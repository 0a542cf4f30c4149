"""MusicXML in and out through music21.

Reading splits every staff voice into its own track, so SATB written on two staves with two
voices each arrives as four tracks; ties are merged into single notes, chords in one voice
become simultaneous notes, and pickups and irregular bars go into the time-signature map.
"""

from __future__ import annotations

import io
import re
import warnings
import zipfile
import zlib
from collections import Counter, defaultdict
from fractions import Fraction
from pathlib import Path

from music21 import bar as m21bar
from music21 import chord as m21chord
from music21 import (
    clef,
    converter,
    duration,
    expressions,
    instrument,
    key,
    meter,
    note,
    pitch,
    stream,
    tempo,
    tie,
)
from pydantic import ValidationError

from .bars import time_signatures_from_bars
from .errors import LimitExceeded, ScoreReadError, first_line, pydantic_message
from .keys import keys_from_sharps
from .score import (
    TICKS_PER_QUARTER,
    Fermata,
    KeySignature,
    Note,
    Score,
    Tempo,
    TimeSignature,
    Track,
    check_bpm,
)
from .spelling import canonical, spelling_of, tonic_letter
from .spelling import name as spelling_name

DEFAULT_VELOCITY = 80
# A .mxl archive is unpacked here, within these bounds, before music21 sees it: music21 would
# unpack it whole, and a 1 MB archive can expand to gigabytes. The score inside may be as big
# as a plain MusicXML file may be (scoreio.MAX_FILE_BYTES); a MusicXML archive holds the
# score, META-INF/container.xml and perhaps a few images.
MAX_UNZIPPED_BYTES = 20 * 1024 * 1024
MAX_ARCHIVE_ENTRIES = 100
_CHUNK = 1 << 16
SEPARATE_VOICES = 0.8  # share of the busiest voice's bars each voice needs to be a track
_VOICE_ROLES = ("soprano", "alto", "tenor", "bass")
_ROLE_NAMES = {
    "soprano": ("soprano", "sopran", "canto", "cantus", "s"),
    "alto": ("alto", "alt", "altus", "contralto", "a"),
    "tenor": ("tenor", "tenore", "t"),
    "bass": ("bass", "basso", "bassus", "b"),
}


def _ticks(quarters) -> int:
    value = Fraction(quarters).limit_denominator(10_000) * TICKS_PER_QUARTER
    return round(value)


# ---- reading ----------------------------------------------------------------------------


def read_musicxml(path: Path) -> Score:
    archive = path.suffix.lower() == ".mxl" and zipfile.is_zipfile(path)
    data = unzipped_score(path) if archive else None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if data is None:
                parsed = converter.parse(str(path), format="musicxml", forceSource=True)
            else:  # as music21 reads an archive's score, from the bytes unpacked here
                from music21.musicxml import xmlToM21

                importer = xmlToM21.MusicXMLImporter()
                importer.readFile(io.BytesIO(data))
                parsed = importer.stream
                if parsed.metadata.movementName is None:
                    parsed.metadata.movementName = path.name
    except Exception as exc:  # music21 raises many kinds on damaged files
        raise ScoreReadError(f"{path.name} is not a readable MusicXML file ({first_line(exc)})") from exc
    if isinstance(parsed, stream.Opus):
        raise ScoreReadError(f"{path.name} holds several pieces; save the one to edit on its own")
    if isinstance(parsed, stream.Part):
        wrapper = stream.Score()
        wrapper.insert(0, parsed)
        parsed = wrapper
    try:
        return score_from_music21(parsed)
    except ValidationError as exc:  # a value no score can hold, stated one way or another
        raise ScoreReadError(f"{path.name} is not a valid score: {pydantic_message(exc)}") from exc


def unzipped_score(path: Path) -> bytes:
    """The score inside a .mxl archive, unpacked within MAX_ARCHIVE_ENTRIES and
    MAX_UNZIPPED_BYTES; the sizes the archive states are not trusted, the bytes are counted.
    The score is the entry music21 would pick: the first .xml or .musicxml outside META-INF."""
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
            if len(entries) > MAX_ARCHIVE_ENTRIES:
                raise LimitExceeded(
                    f"{path.name} holds {len(entries):,} files; a MusicXML archive may hold {MAX_ARCHIVE_ENTRIES}"
                )
            entry = next((e for e in entries if _is_score_entry(e.filename)), None)
            if entry is None:
                raise ScoreReadError(f"{path.name} is a zip archive with no MusicXML file in it")
            chunks, size = [], 0
            with archive.open(entry) as handle:
                while chunk := handle.read(_CHUNK):
                    size += len(chunk)
                    if size > MAX_UNZIPPED_BYTES:
                        raise LimitExceeded(
                            f"{path.name} unpacks to more than {MAX_UNZIPPED_BYTES:,} bytes of MusicXML, the limit"
                        )
                    chunks.append(chunk)
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        zlib.error,
        EOFError,
        NotImplementedError,
        RuntimeError,
    ) as exc:
        raise ScoreReadError(f"{path.name} is not a readable MusicXML archive ({first_line(exc)})") from exc
    return b"".join(chunks)


def _is_score_entry(name: str) -> bool:
    return "META-INF" not in name and (Path(name).suffix in (".musicxml", ".xml", ".mxl") or name == ".xml")


def score_from_music21(m21score: stream.Score) -> Score:
    staves = list(m21score.parts)
    if not staves:
        raise ScoreReadError("the MusicXML file has no parts")
    tracks: list[Track] = []
    fermatas: list[Fermata] = []
    staff_of_track: list[int] = []
    grid = _bar_grid(staves)
    placed = _Placer(staves, grid, m21score)
    for staff_index, staff in enumerate(staves):
        for voice_notes, voice_fermatas, label in _read_staff(staff, grid):
            track = _track_for(staff, label, voice_notes, len(tracks))
            fermatas += [Fermata(tick=t, track=len(tracks)) for t in voice_fermatas]
            tracks.append(track)
            staff_of_track.append(staff_index)
    _assign_choral_roles(tracks, staff_of_track)
    measures = list(staves[0].getElementsByClass(stream.Measure))
    length = max([sum(grid[-1]) if grid else 0] + [_staff_end(s) for s in staves if not _measures(s)])
    length = max([length] + [n.end for t in tracks for n in t.notes])
    score = Score(
        title=_title(m21score),
        length=length,
        tracks=tracks,
        time_signatures=_time_signatures(measures, grid),
        keys=_keys(staves[0], tracks, placed),
        tempos=_tempos(m21score, placed),
        fermatas=sorted(fermatas, key=lambda f: (f.tick, f.track)),
    )
    return canonical(score).normalized()  # a spelling is kept where it differs from the key's


def _title(m21score: stream.Score) -> str:
    meta = m21score.metadata
    if meta is None:
        return ""
    return (meta.title or meta.movementName or "")[:500]


def _staff_end(staff: stream.Stream) -> int:
    measures = list(staff.getElementsByClass(stream.Measure))
    if not measures:
        return _ticks(staff.highestTime)
    last = measures[-1]
    return _ticks(last.offset + last.duration.quarterLength)


def _measures(staff: stream.Stream) -> list[stream.Measure]:
    return list(staff.getElementsByClass(stream.Measure))


def _bar_grid(staves: list[stream.Stream]) -> list[tuple[int, int]]:
    """(start, length) in ticks of each bar, as most staves state it (the first staff on a tie).

    One staff's over-full bar (a stray rest past the barline, a mis-stated tuplet: the first
    violin's bar 3 in Haydn's op. 1 no. 1, iii) then moves no barline and makes no meter
    event that no time signature can state, and that staff's later bars stay in step."""
    per_staff = [[_ticks(m.duration.quarterLength) for m in _measures(staff)] for staff in staves]
    first = _measures(staves[0])
    if not first:
        return []
    tick = _ticks(first[0].offset)
    grid = []
    for index in range(len(per_staff[0])):
        stated = Counter(lengths[index] for lengths in per_staff if index < len(lengths))
        length = stated.most_common(1)[0][0]
        grid.append((tick, length))
        tick += length
    return grid


class _Placer:
    """The tick of a key signature or tempo mark on the score's bar grid (see _bar_grid), not
    on its own staff's count of bars."""

    def __init__(self, staves: list[stream.Stream], grid: list[tuple[int, int]], root: stream.Score) -> None:
        self.grid, self.root = grid, root
        self.index = {id(m): i for staff in staves for i, m in enumerate(_measures(staff))}

    def tick(self, element) -> int:
        measure = element.getContextByClass(stream.Measure)
        bar = self.index.get(id(measure)) if measure is not None else None
        if bar is None or bar >= len(self.grid):
            return _ticks(element.getOffsetInHierarchy(self.root))
        return self.grid[bar][0] + _ticks(element.getOffsetInHierarchy(measure))


def _read_staff(staff: stream.Stream, grid: list[tuple[int, int]]) -> list[tuple[list[Note], list[int], str]]:
    """The voices of one staff: notes (ties merged), fermata ticks, voice label.

    Voices that run through the staff (SATB on two staves) become tracks of their own; a
    second voice that appears only here and there (a divisi, double stops, a held note) stays in
    its staff's track, where it belongs musically.
    """
    by_voice: dict[str, list[tuple[int, object]]] = defaultdict(list)
    bars_with_notes: dict[str, int] = defaultdict(int)
    for index, measure in enumerate(_measures(staff)):
        # where the score's bar starts, which this staff's own count may have lost (see _bar_grid)
        base = grid[index][0] if index < len(grid) else _ticks(measure.offset)
        for element in measure.notesAndRests:
            by_voice["1"].append((base + _ticks(element.offset), element))
        bars_with_notes["1"] += bool(measure.notes)
        for voice in measure.voices:
            label = str(voice.id) if voice.id is not None else "1"
            for element in voice.notesAndRests:
                by_voice[label].append((base + _ticks(voice.offset + element.offset), element))
            bars_with_notes[label] += bool(voice.notes)
    if not staff.getElementsByClass(stream.Measure):
        for element in staff.flatten().notesAndRests:
            by_voice["1"].append((_ticks(element.offset), element))
    _check_durations(staff, by_voice)
    labels = sorted(by_voice, key=_voice_order)
    busiest = max(bars_with_notes.values(), default=0)
    # Voices are parts only when each sings in nearly every bar the busiest one does (SATB on
    # two staves); double stops and divisi written as a second voice in half or two thirds of
    # the bars (Haydn op. 1 no. 1, iii: 52-71%) are one instrument's, and stay one track.
    if any(bars_with_notes[label] < SEPARATE_VOICES * busiest for label in labels):
        merged = [event for label in labels for event in by_voice[label]]
        by_voice = {labels[0]: merged} if labels else {}
    voices = []
    for label in sorted(by_voice, key=_voice_order):
        notes, fermata_ticks = _merge_ties(by_voice[label])
        if notes or fermata_ticks:
            voices.append((notes, fermata_ticks, label))
    return voices


def _check_durations(staff: stream.Stream, by_voice: dict[str, list[tuple[int, object]]]) -> None:
    """MusicXML durations are positive; a negative one (or a backup past the bar) is refused
    by name, where it would otherwise put notes before the start of the piece."""
    for events in by_voice.values():
        for tick, element in events:
            if tick < 0 or element.duration.quarterLength < 0:
                bar = element.getContextByClass(stream.Measure)
                where = f"bar {bar.number}" if bar is not None else f"tick {tick}"
                part = staff.partName or "an unnamed part"
                raise ScoreReadError(
                    f"{where} of {part} has a note or rest with a negative duration or offset; "
                    "MusicXML durations are positive"
                )


def _voice_order(label: str) -> tuple[int, str]:
    digits = re.sub(r"\D", "", label)
    return (int(digits) if digits else 1_000_000, label)


def _pitches(element) -> list[tuple[int, object, str | None]]:
    """(MIDI pitch, note-like carrying the tie, spelling) for each sounding pitch of an element."""
    if isinstance(element, m21chord.Chord):
        return [(p.midi, n, _spelling(p)) for p, n in zip(element.pitches, element.notes, strict=False)]
    if isinstance(element, note.Unpitched):
        mapped = getattr(element.storedInstrument, "percMapPitch", None)
        return [(mapped if mapped is not None else element.displayPitch().midi, element, None)]
    if isinstance(element, note.Note):
        return [(element.pitch.midi, element, _spelling(element.pitch))]
    return []


def _spelling(written: pitch.Pitch) -> str | None:
    """'E#' for an E sharp, as the file spells it; None for a microtone, which no spelling holds."""
    alter = written.accidental.alter if written.accidental is not None else 0
    if alter != int(alter) or abs(alter) > 2:
        return None
    return written.step + ("#" * int(alter) if alter > 0 else "b" * -int(alter))


def _velocity(element) -> int:
    volume = getattr(element, "volume", None)
    velocity = getattr(volume, "velocity", None) if volume is not None else None
    return int(min(127, max(1, velocity))) if velocity else DEFAULT_VELOCITY


def _merge_ties(events: list[tuple[int, object]]) -> tuple[list[Note], list[int]]:
    notes: list[Note] = []
    open_ties: dict[int, int] = {}  # pitch -> index in notes of a tie still open
    fermata_ticks: list[int] = []
    for tick, element in sorted(events, key=lambda e: e[0]):
        length = _ticks(element.duration.quarterLength)
        if length <= 0:  # grace notes have no place on the grid
            continue
        onset = tick
        for midi, carrier, spelled in _pitches(element):
            tie_type = carrier.tie.type if carrier.tie is not None else None
            previous = open_ties.pop(midi, None)
            continues = tie_type in ("stop", "continue")
            if previous is not None and continues and notes[previous].end == tick:
                merged = notes[previous]
                notes[previous] = merged.model_copy(update={"duration": merged.duration + length})
                index = previous
                onset = min(onset, merged.start)
            else:
                notes.append(
                    Note(
                        start=tick, duration=length, pitch=midi, velocity=_velocity(element), spelling=spelled
                    )
                )
                index = len(notes) - 1
            if tie_type in ("start", "continue"):
                open_ties[midi] = index
        if any(isinstance(e, expressions.Fermata) for e in element.expressions):
            fermata_ticks.append(onset)
    return notes, sorted(set(fermata_ticks))


def _track_for(staff: stream.Stream, label: str, notes: list[Note], index: int) -> Track:
    inst = staff.getInstrument(returnDefault=False)
    # A part without a name is named for its instrument, else "Track N" as the writer names it
    # (never for staff.id: music21 makes that an object id when the file gives none).
    given = [staff.partName, inst.partName, inst.instrumentName] if inst else [staff.partName]
    name = next((n.strip() for n in given if n and n.strip()), f"Track {index + 1}")
    program = inst.midiProgram if inst is not None and inst.midiProgram is not None else 0
    is_drum = isinstance(inst, instrument.UnpitchedPercussion) or (inst is not None and inst.midiChannel == 9)
    return Track(
        name=name[:200],
        program=program,
        is_drum=is_drum,
        role=_role_from_name(name),
        notes=notes,
    )


def _role_from_name(name: str) -> str | None:
    word = re.sub(r"[^a-z]", "", name.lower().split()[0]) if name.strip() else ""
    for role, names in _ROLE_NAMES.items():
        if word in names:
            return role
    return None


def _assign_choral_roles(tracks: list[Track], staff_of_track: list[int]) -> None:
    """Four voices on two staves (two each) are SATB from the top, whatever the staff names."""
    if len(tracks) == 4 and staff_of_track == [0, 0, 1, 1]:
        for track, role in zip(tracks, _VOICE_ROLES, strict=True):
            track.role = role
    # Name the voices of a shared staff after their role, so users can refer to them.
    names = [t.name for t in tracks]
    for track in tracks:
        if track.role in _VOICE_ROLES and names.count(track.name) > 1:
            track.name = track.role.capitalize()


def _time_signatures(measures: list[stream.Measure], grid: list[tuple[int, int]]) -> list[TimeSignature]:
    bars = []
    current = None
    for measure, (start, length) in zip(measures, grid, strict=False):
        current = measure.timeSignature or current or meter.TimeSignature("4/4")
        bars.append((start, length, current.numerator, current.denominator))
    return time_signatures_from_bars(bars)


def _keys(first_staff: stream.Stream, tracks: list[Track], placed: _Placer) -> list[KeySignature]:
    found: dict[int, KeySignature] = {}
    sharps_only: list[tuple[int, int]] = []
    for signature in first_staff.recurse().getElementsByClass(key.KeySignature):
        tick = placed.tick(signature)
        mode = getattr(signature, "mode", None)
        if mode in ("major", "minor", "dorian", "phrygian", "lydian", "mixolydian"):
            found[tick] = KeySignature.from_sharps(tick, signature.sharps, mode)
        else:
            sharps_only.append((tick, signature.sharps))
    if sharps_only or not found:
        # Sections whose mode the file leaves open: infer each from its own notes.
        every = sorted([(t, k.sharps) for t, k in found.items()] + sharps_only)
        for inferred in keys_from_sharps(every, tracks):
            found.setdefault(inferred.tick, inferred)
    return [found[t] for t in sorted(found)]


def _tempos(m21score: stream.Score, placed: _Placer) -> list[Tempo]:
    found: dict[int, Tempo] = {}
    for mark in m21score.recurse().getElementsByClass(tempo.MetronomeMark):
        try:
            bpm = mark.getQuarterBPM()
        except (ZeroDivisionError, OverflowError):  # music21 divides by the number per minute
            bpm = 0.0
        if bpm is not None:
            tick = placed.tick(mark)
            check_bpm(float(bpm), f"the tempo mark at tick {tick:,}")
            found.setdefault(tick, Tempo(tick=tick, bpm=round(float(bpm), 3)))
    if 0 not in found:
        found[0] = Tempo(tick=0, bpm=120.0)
    return [found[t] for t in sorted(found)]


# ---- writing ----------------------------------------------------------------------------


def write_musicxml(score: Score, path: Path) -> None:
    m21score = score_to_music21(score)
    fmt = "mxl" if path.suffix.lower() == ".mxl" else "musicxml"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m21score.write(fmt, fp=str(path))


def score_to_music21(score: Score) -> stream.Score:
    from music21 import metadata

    m21score = stream.Score()
    m21score.metadata = metadata.Metadata(title=score.title or "")
    m21score.metadata.composer = ""  # else music21 signs the score "Music21"
    bars = score.bars()
    for index, track in enumerate(score.tracks):
        fermata_ticks = {f.tick for f in score.fermatas if f.track in (None, index)}
        m21score.insert(0, _track_part(score, index, track, bars, fermata_ticks))
    return m21score


def spell(midi: int, sharps: int) -> pitch.Pitch:
    """A MIDI pitch spelled for a key signature: black keys as sharps in sharp keys (and C major),
    as flats in flat keys; white keys with no accidental, so no natural sign is printed."""
    spelled = pitch.Pitch(midi=midi)
    if (
        spelled.accidental is not None
        and spelled.accidental.alter != 0
        and (spelled.accidental.alter < 0) != (sharps < 0)
    ):
        spelled = spelled.getEnharmonic()
    if spelled.accidental is not None and spelled.accidental.alter == 0:
        spelled.accidental = None
    return spelled


def _track_part(score, index, track, bars, fermata_ticks) -> stream.Part:
    part = stream.Part(id=f"P{index + 1}")
    part.partName = track.name or f"Track {index + 1}"
    # the short name on the systems after the first (else music21 prints the instrument's)
    part.partAbbreviation = part.partName if len(part.partName) <= 5 else part.partName[:4] + "."
    part.insert(0, _instrument(track, part.partAbbreviation))
    voices = _allocate_voices(track.notes)
    previous_signature = None
    for bar in bars:
        measure = stream.Measure(number=bar.number)
        signature = (bar.time_signature.numerator, bar.time_signature.denominator)
        if signature != previous_signature:
            measure.timeSignature = meter.TimeSignature(f"{signature[0]}/{signature[1]}")
            previous_signature = signature
        for k in score.keys:
            if bar.start <= k.tick < bar.end:
                measure.insert(_quarters(k.tick - bar.start), _music21_key(k))
        if index == 0:
            for t in score.tempos:
                if bar.start <= t.tick < bar.end:
                    mark = tempo.MetronomeMark(number=t.bpm)
                    measure.insert(_quarters(t.tick - bar.start), mark)
        if bar.is_partial:
            missing = _quarters(bar.time_signature.bar_ticks - (bar.end - bar.start))
            if bar.index == 0:
                measure.paddingLeft = missing
            else:
                measure.paddingRight = missing
        _fill_measure(measure, bar, voices, fermata_ticks, score)
        part.append(measure)
    measures = part.getElementsByClass(stream.Measure)
    if measures:
        measures.first().insert(0, _clef(track, part))
        # every part ends with a final barline, not only those music21 happens to give one
        measures.last().rightBarline = m21bar.Barline("final")
    return part


# Clefs by role, so that one voice always gets the same clef whatever it sings in one piece.
_ROLE_CLEFS = {
    "soprano": clef.TrebleClef,
    "alto": clef.TrebleClef,
    "melody": clef.TrebleClef,
    "tenor": clef.Treble8vbClef,
    "bass": clef.BassClef,
    "bassline": clef.BassClef,
}
_VIOLA = 41  # General MIDI program (0-based): the viola reads the alto clef


def _clef(track: Track, part: stream.Part) -> clef.Clef:
    """The clef of the track's role (alto: treble, tenor: treble 8vb, bass: bass), the viola's
    alto clef, else treble or bass by range (treble 8vb only for a role that sings there)."""
    if track.is_drum:
        return clef.PercussionClef()
    role = track.role or _role_from_name(track.name)  # a track named Tenor is the tenor
    if role in _ROLE_CLEFS:
        return _ROLE_CLEFS[role]()
    if track.program == _VIOLA:
        return clef.AltoClef()
    if not track.notes:
        return clef.TrebleClef()
    return clef.bestClef(part, allowTreble8vb=False, recurse=True)


def _instrument(track: Track, abbreviation: str):
    if track.is_drum:
        return instrument.UnpitchedPercussion()
    try:
        inst = instrument.instrumentFromMidiProgram(track.program)
    except Exception:  # music21 knows no class for some programs
        inst = instrument.Instrument()
    inst.midiProgram = track.program
    inst.partName = track.name
    inst.partAbbreviation = inst.instrumentAbbreviation = abbreviation
    return inst


def _music21_key(k: KeySignature) -> key.Key:
    tonic = spelling_name(tonic_letter(k), k.tonic).replace("b", "-")
    return key.Key(tonic, "minor" if k.mode == "aeolian" else k.mode)


def _quarters(ticks: int) -> Fraction:
    return Fraction(ticks, TICKS_PER_QUARTER)


def _allocate_voices(notes: list[Note]) -> list[list[list[Note]]]:
    """Notes grouped into chords (same onset and length) and chords into non-overlapping voices."""
    chords: dict[tuple[int, int], list[Note]] = defaultdict(list)
    for n in notes:
        chords[(n.start, n.duration)].append(n)
    voices: list[list[list[Note]]] = []
    ends: list[int] = []
    for start, length in sorted(chords):
        group = chords[(start, length)]
        slot = next((i for i, end in enumerate(ends) if end <= start), None)
        if slot is None:
            voices.append([])
            ends.append(0)
            slot = len(voices) - 1
        voices[slot].append(group)
        ends[slot] = start + length
    return voices or [[]]


def _fill_measure(measure, bar, voices, fermata_ticks, score: Score) -> None:
    containers = []
    for number, chords in enumerate(voices, start=1):
        container = stream.Voice(id=str(number)) if len(voices) > 1 else measure
        cursor = bar.start
        for group in chords:
            start, end = group[0].start, group[0].end
            if end <= bar.start or start >= bar.end:
                continue
            piece_start, piece_end = max(start, bar.start), min(end, bar.end)
            if piece_start > cursor:
                container.insert(_quarters(cursor - bar.start), _rest(piece_start - cursor))
            element = _element(group, piece_end - piece_start, score)
            if start < bar.start or end > bar.end:
                element.tie = tie.Tie(
                    "continue"
                    if start < bar.start and end > bar.end
                    else "stop"
                    if start < bar.start
                    else "start"
                )
                if isinstance(element, m21chord.Chord):
                    for n in element.notes:
                        n.tie = tie.Tie(element.tie.type)
            if start >= bar.start and start in fermata_ticks:
                element.expressions.append(expressions.Fermata())
            container.insert(_quarters(piece_start - bar.start), element)
            cursor = piece_end
        if cursor < bar.end and (number == 1 or cursor > bar.start):
            container.insert(_quarters(cursor - bar.start), _rest(bar.end - cursor))
        if container is not measure:
            containers.append(container)
    for voice in containers:
        measure.insert(0, voice)


def _written_pitch(written: Note, score: Score) -> pitch.Pitch:
    """The note's pitch under its own spelling, else its key's; a natural carries no accidental,
    so music21 prints a natural sign only where the bar needs one."""
    spelled = pitch.Pitch(spelling_of(written, score).replace("b", "-"))
    spelled.octave = written.pitch // 12 - 1
    spelled.octave += (written.pitch - spelled.midi) // 12  # B#3 is MIDI 60, Cb5 is MIDI 71
    if spelled.accidental is not None and spelled.accidental.alter == 0:
        spelled.accidental = None
    return spelled


def _rest(ticks: int) -> note.Rest:
    rest = note.Rest()
    rest.duration = duration.Duration(_quarters(ticks))
    return rest


def _element(group: list[Note], ticks: int, score: Score):
    length = duration.Duration(_quarters(ticks))
    if len(group) == 1:
        element = note.Note(_written_pitch(group[0], score))
    else:
        element = m21chord.Chord([_written_pitch(n, score) for n in sorted(group, key=lambda n: n.pitch)])
    element.duration = length
    element.volume.velocity = group[0].velocity
    return element
