"""MMM sequences: every track of a window of bars, with placeholder bars filled at the end.

    BOS
    Track_Start Program_p Density_k Poly_n (Bar_None TimeSig_a/b (notes | Infill_Bar))* Track_End
    ... one block per track ...
    (FillBar_Start notes FillBar_End)*   one per placeholder, in the order they appear
    EOS

Training and inference build sequences with the same code: training knows the answers of
the placeholders, inference writes them.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field

from scorehost.core.score import Bar, Note, Track
from scorehost.plugins.lib.bartokens import bar_tokens
from scorehost.plugins.lib.vocab import MAX_POLYPHONY_TOKEN, Vocab, instrument_family


@dataclass
class TrackRow:
    program: int
    is_drum: bool
    density: int  # Density_k level
    poly: int  # 1..MAX_POLYPHONY_TOKEN
    cells: list[list[int] | None]  # per bar: note tokens, or None for a placeholder


@dataclass
class Window:
    timesigs: list[int | None]  # TimeSig token per bar (None: no token for that meter)
    rows: list[TrackRow] = field(default_factory=list)


def prompt(window: Window, vocab: Vocab) -> list[int]:
    """The sequence up to the first FillBar_Start (which the caller adds)."""
    out = [vocab["BOS_None"]]
    for row in window.rows:
        out += [
            vocab["Track_Start"],
            vocab.program_token(row.program, row.is_drum),
            vocab[f"Density_{row.density}"],
            vocab[f"Poly_{row.poly}"],
        ]
        for timesig, cell in zip(window.timesigs, row.cells, strict=True):
            out.append(vocab["Bar_None"])
            if timesig is not None:
                out.append(timesig)
            out += [vocab["Infill_Bar"]] if cell is None else cell
        out.append(vocab["Track_End"])
    return out


def full_sequence(window: Window, answers: list[list[int]], vocab: Vocab) -> list[int]:
    """Prompt plus the fills (answers, one per placeholder in order): a training sequence."""
    out = prompt(window, vocab)
    for cell in answers:
        out += [vocab["FillBar_Start"], *cell, vocab["FillBar_End"]]
    return out + [vocab["EOS_None"]]


# ---- statistics behind the control tokens ----------------------------------------------------


def poly_level(polyphony: int) -> int:
    return min(max(polyphony, 1), MAX_POLYPHONY_TOKEN)


def density_level(program: int, is_drum: bool, counts: list[int], vocab: Vocab) -> int:
    """The Density_k level of a track whose bars hold these note counts (empty bars aside)."""
    busy = [c for c in counts if c]
    return vocab.density_level(instrument_family(program, is_drum), sum(busy) / max(1, len(busy)))


def notes_by_bar(track: Track, bars: list[Bar]) -> list[list[Note]]:
    by_bar: list[list[Note]] = [[] for _ in bars]
    starts = [b.start for b in bars]
    for note in track.notes:
        i = bisect_right(starts, note.start) - 1
        if 0 <= i < len(bars) and note.start < bars[i].end:
            by_bar[i].append(note)
    return by_bar


def track_cells(track: Track, bars: list[Bar], vocab: Vocab) -> tuple[list[list[int]], list[list[Note]]]:
    """Tokens and notes of each bar of a track."""
    by_bar = notes_by_bar(track, bars)
    cells = [bar_tokens(notes, bar, track.is_drum, vocab) for notes, bar in zip(by_bar, bars, strict=True)]
    return cells, by_bar
