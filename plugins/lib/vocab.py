"""The token vocabulary of the autoregressive plugins: miditok's MMM (REMI base) plus infill and
control tokens.

miditok builds the note vocabulary (Bar, TimeSig, Position, Pitch, PitchDrum, Velocity,
Duration, Program, Track_Start/End) from one fixed config; the infill tokens (a bar
placeholder, fill start/end) and attribute controls (density level, polyphony) are appended.
The whole token list is saved with the weights and read back from there, never rebuilt, so a
new miditok release cannot shift token ids under shipped weights.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from scorehost.core.score import TICKS_PER_QUARTER

# One position per sixteenth of a quarter-note beat (a 32nd in x/8 meters); miditok measures
# beats in units of the time signature's denominator.
POSITIONS_PER_BEAT = 4
DENSITY_LEVELS = 10  # deciles of notes per bar, per instrument family (MIDI-GPT)
MAX_POLYPHONY_TOKEN = 6  # Poly_6 means six or more notes at once
INFILL_TOKENS = ("Infill_Bar", "FillBar_Start", "FillBar_End")
# The theme plugin's markers around the bars of a theme occurrence (Theme Transformer's
# theme-start/theme-end). Only the theme vocabulary has them: mmm's token list stays as shipped.
THEME_TOKENS = ("Theme_Start", "Theme_End")
METERS = {8: [3, 5, 6, 7, 9, 12], 4: [1, 2, 3, 4, 5, 6, 7], 2: [1, 2, 3, 4]}
DRUM_RANGE = (27, 87)  # General MIDI percussion keys miditok's PitchDrum tokens cover


def miditok_config():
    """The miditok MMM config the note vocabulary comes from."""
    from miditok import TokenizerConfig

    return TokenizerConfig(
        pitch_range=(0, 127),
        beat_res={(0, 4): POSITIONS_PER_BEAT, (4, 8): 2},
        num_velocities=8,
        use_time_signatures=True,
        time_signature_range=METERS,
        use_programs=True,
        use_pitchdrum_tokens=True,
        drums_pitch_range=(DRUM_RANGE[0], DRUM_RANGE[1] + 1),
        special_tokens=["PAD", "BOS", "EOS", *INFILL_TOKENS],
        base_tokenizer="REMI",
    )


def build_tokens() -> list[str]:
    """The full token list: miditok's MMM vocabulary in id order, then the control tokens."""
    from miditok import MMM

    tokenizer = MMM(miditok_config())
    tokens = sorted(tokenizer.vocab, key=tokenizer.vocab.get)
    controls = [f"Density_{i}" for i in range(DENSITY_LEVELS)]
    controls += [f"Poly_{i}" for i in range(1, MAX_POLYPHONY_TOKEN + 1)]
    return tokens + controls


def build_theme_tokens() -> list[str]:
    """The theme plugin's token list: mmm's, ids unchanged, then the theme markers."""
    return build_tokens() + list(THEME_TOKENS)


@dataclass
class Vocab:
    """Token ids by name, and the numbers behind Velocity and Duration tokens."""

    tokens: list[str]
    # Per instrument family (program // 8, or "drums"): 9 thresholds on mean notes per bar.
    density_bins: dict[str, list[float]] = field(default_factory=dict)
    # Per instrument family: the median Poly_n level, for a new track with no constraint.
    poly_defaults: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.ids = {t: i for i, t in enumerate(self.tokens)}

    def __len__(self) -> int:
        return len(self.tokens)

    def __getitem__(self, token: str) -> int:
        return self.ids[token]

    def to_json(self) -> dict:
        return {"tokens": self.tokens, "density_bins": self.density_bins, "poly_defaults": self.poly_defaults}

    @classmethod
    def from_json(cls, data: dict) -> Vocab:
        bins = {k: list(v) for k, v in data.get("density_bins", {}).items()}
        return cls(list(data["tokens"]), bins, dict(data.get("poly_defaults", {})))

    # ---- token families -------------------------------------------------------------------

    def family(self, prefix: str) -> dict[str, int]:
        """Tokens 'PREFIX_value' as {value: id}."""
        return {t.split("_", 1)[1]: i for i, t in enumerate(self.tokens) if t.split("_", 1)[0] == prefix}

    def ids_of(self, prefix: str) -> np.ndarray:
        return np.array(sorted(self.family(prefix).values()), dtype=np.int64)

    @cached_property
    def pitch_ids(self) -> np.ndarray:  # index: MIDI pitch
        return _table(self.family("Pitch"), 128)

    @cached_property
    def drum_ids(self) -> np.ndarray:
        return _table(self.family("PitchDrum"), 128)

    @cached_property
    def velocities(self) -> list[tuple[int, int]]:  # (value, id), ascending
        return sorted((int(v), i) for v, i in self.family("Velocity").items())

    @cached_property
    def durations(self) -> list[tuple[float, int]]:  # (beats, id), ascending
        return sorted((_beats(v), i) for v, i in self.family("Duration").items())

    @cached_property
    def positions(self) -> np.ndarray:  # index: position in the bar
        return _table(self.family("Position"), 1 + max(int(v) for v in self.family("Position")))

    @cached_property
    def position_of(self) -> dict[int, int]:  # Position token id -> position in the bar
        return {int(t): p for p, t in enumerate(self.positions)}

    @cached_property
    def token_kind(self) -> list[str]:
        return [t.split("_", 1)[0] for t in self.tokens]

    @cached_property
    def kind_ids(self) -> np.ndarray:  # each token's kind as a number: tokens of one kind share it
        return np.unique(np.array(self.token_kind), return_inverse=True)[1].ravel()

    def velocity_token(self, velocity: int) -> int:
        return min(self.velocities, key=lambda vi: abs(vi[0] - velocity))[1]

    def duration_token(self, beats: float) -> int:
        return min(self.durations, key=lambda di: abs(di[0] - beats))[1]

    def program_token(self, program: int, is_drum: bool) -> int:
        return self[f"Program_{-1 if is_drum else program}"]

    def timesig_token(self, numerator: int, denominator: int) -> int | None:
        return self.ids.get(f"TimeSig_{numerator}/{denominator}")

    def default_poly(self, family: str) -> int:
        return int(self.poly_defaults.get(family, self.poly_defaults.get("all", 1)))

    def density_level(self, family: str, notes_per_bar: float) -> int:
        bins = self.density_bins.get(family) or self.density_bins.get("all") or []
        return int(np.searchsorted(np.asarray(bins), notes_per_bar, side="right"))


def instrument_family(program: int, is_drum: bool) -> str:
    return "drums" if is_drum else str(program // 8)


def ticks_per_beat(denominator: int) -> int:
    return TICKS_PER_QUARTER * 4 // denominator


def ticks_per_position(denominator: int) -> int:
    return ticks_per_beat(denominator) // POSITIONS_PER_BEAT


def _beats(value: str) -> float:
    whole, part, res = (int(x) for x in value.split("."))
    return whole + part / res


def _table(family: dict[str, int], size: int) -> np.ndarray:
    table = np.full(size, -1, dtype=np.int64)
    for value, token in family.items():
        if 0 <= int(value) < size:
            table[int(value)] = token
    return table
