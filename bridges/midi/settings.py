"""The live MIDI bridge's settings: each field is a `scorehost serve` setting (flag, SCOREHOST_*
variable and config key of the same name); see docs/settings.md."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from scorehost.core.bridge import BridgeSettings


class MidiSettings(BridgeSettings):
    midi_in: str = Field(default="scorehost in", description="Name of the live MIDI input port.")
    midi_out: str = Field(default="scorehost out", description="Name of the live MIDI output port.")
    midi_backend: str | None = Field(
        default=None, description="mido backend, e.g. mido.backends.rtmidi/UNIX_JACK (default: MIDO_BACKEND)."
    )
    midi_model: str | None = Field(default=None, description="Model a MIDI trigger (CC) runs.")
    midi_fill: str = Field(default="", description="Region a MIDI trigger fills, e.g. ch2:1-4.")
    midi_trigger_cc: int | None = Field(
        default=None, ge=0, le=127, description="CC number whose value >= 64 triggers a live fill."
    )
    midi_meter: str = Field(default="4/4", description="Meter of live recordings (MIDI clock has none).")
    midi_save_dir: Path | None = Field(
        default=None,
        description="Also save each triggered live fill as a MIDI file here (an allowed folder).",
        json_schema_extra={"path": "dir"},
    )
