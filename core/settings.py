"""Server settings: flags override environment (SCOREHOST_*) which overrides a TOML config file."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from pydantic import Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from .errors import ScorehostError
from .scoreio import MAX_NOTES


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SCOREHOST_", extra="forbid")

    host: str = Field(
        default="127.0.0.1", description="Address the bridges bind; a non-loopback address needs a token."
    )
    token: str | None = Field(
        default=None, description="Shared secret clients must send (HTTP: Authorization: Bearer TOKEN)."
    )
    bridges: list[str] = Field(default=["http"], description="Bridges to start (see scorehost plugins).")
    http_port: int = Field(default=8765, ge=0, le=65535, description="HTTP bridge port (0: any free port).")
    osc_port: int = Field(default=9100, ge=0, le=65535, description="OSC bridge UDP port.")
    osc_tcp: bool = Field(default=False, description="Also serve OSC over TCP (SLIP framing) on osc_port.")
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
    )
    device: str | None = Field(default=None, description="auto, cpu, cuda or cuda:N.")
    preload: list[str] = Field(
        default=[], description="Models to load at start, so the first request does not wait for weights."
    )
    queue_size: int = Field(
        default=64, ge=1, le=10_000, description="Jobs waiting at most; more are refused as busy."
    )
    timeout: float = Field(default=120.0, gt=0, le=3600, description="Default seconds a job may run.")
    max_body_bytes: int = Field(
        default=8 * 1024 * 1024, ge=1024, description="Largest request body accepted."
    )
    max_notes: int = Field(default=MAX_NOTES, ge=1, description="Largest score (in notes) accepted.")
    allowed_dirs: list[Path] = Field(
        default=[], description="Folders requests may read scores from and write results to."
    )
    config_file: Path | None = Field(default=None, exclude=True, description="TOML file with these settings.")

    @classmethod
    def settings_customise_sources(
        cls, settings_cls, init_settings, env_settings, dotenv_settings, file_secret_settings
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        config = init_settings.init_kwargs.get("config_file")
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if config:
            if not Path(config).is_file():
                raise ScorehostError(f"config file {config} not found")
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=config))
        return tuple(sources)

    def check_safe(self) -> None:
        """Refuse to listen beyond this machine without a token."""
        if not is_loopback(self.host) and not self.token:
            raise ScorehostError(
                f"binding {self.host} exposes the server to the network; set a token (--token or SCOREHOST_TOKEN)"
            )


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
