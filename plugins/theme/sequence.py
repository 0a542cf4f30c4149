"""theme sequences: the theme the encoder reads, and the window of bars the decoder writes.

    theme:   BOS (Track_Start Program_p (Bar_None TimeSig_a/b notes)* Track_End)* EOS
    window:  BOS (Track_Start Program_p (Bar_None TimeSig_a/b cell)* Track_End)*
             (FillBar_Start [Theme_Start] notes [Theme_End] FillBar_End)*   one per placeholder
             EOS
    cell:    [Theme_Start] notes [Theme_End]  |  Infill_Bar

Theme_Start opens the first bar of an occurrence of the theme and Theme_End closes its last;
a placeholder's markers are written in its fill, where the network decides them. The prompt
baseline reads the theme as a prefix instead: BOS Theme_Start (theme tracks) Theme_End, then
the window without its BOS.

Notes are lib's bar tokens (miditok's REMI order and vocabulary, mmm's), so a bar reads the
same to both plugins.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from scorehost.plugins.lib.vocab import Vocab


@dataclass
class Cell:
    tokens: list[int] | None  # note tokens; None: a placeholder to fill
    opens: bool = False  # the first bar of a theme occurrence
    closes: bool = False  # the last bar of one


@dataclass
class TrackRow:
    program: int
    is_drum: bool
    cells: list[Cell] = field(default_factory=list)


def marked(cell: Cell, vocab: Vocab) -> list[int]:
    """A known cell's tokens between its markers."""
    return [vocab["Theme_Start"]] * cell.opens + list(cell.tokens or []) + [vocab["Theme_End"]] * cell.closes


def tracks_block(timesigs: list[int | None], rows: list[TrackRow], vocab: Vocab) -> list[int]:
    out: list[int] = []
    for row in rows:
        out += [vocab["Track_Start"], vocab.program_token(row.program, row.is_drum)]
        for timesig, cell in zip(timesigs, row.cells, strict=True):
            out += [vocab["Bar_None"]] + ([timesig] if timesig is not None else [])  # a meter with no token
            out += [vocab["Infill_Bar"]] if cell.tokens is None else marked(cell, vocab)
        out.append(vocab["Track_End"])
    return out


def theme_sequence(timesigs: list[int], rows: list[TrackRow], vocab: Vocab) -> list[int]:
    """What the encoder reads: the theme's bars of its tracks (no markers)."""
    plain = [TrackRow(r.program, r.is_drum, [Cell(c.tokens or []) for c in r.cells]) for r in rows]
    return [vocab["BOS_None"], *tracks_block(timesigs, plain, vocab), vocab["EOS_None"]]


def window_prompt(
    timesigs: list[int | None], rows: list[TrackRow], vocab: Vocab, theme: list[int] | None = None
):
    """The decoder's sequence up to the first FillBar_Start (which the sampler adds). theme:
    the theme sequence, for the prompt baseline, which reads it as a prefix."""
    return [vocab["BOS_None"], *theme_prefix(theme, vocab), *tracks_block(timesigs, rows, vocab)]


def theme_prefix(theme: list[int] | None, vocab: Vocab) -> list[int]:
    """The prompt baseline's theme between the markers, after its BOS (nothing for the theme
    network, whose encoder reads the theme)."""
    return [] if theme is None else [vocab["Theme_Start"], *theme[1:-1], vocab["Theme_End"]]


def fill_section(answers: list[Cell], vocab: Vocab) -> list[int]:
    out: list[int] = []
    for cell in answers:
        out += [vocab["FillBar_Start"], *marked(cell, vocab), vocab["FillBar_End"]]
    return out + [vocab["EOS_None"]]
