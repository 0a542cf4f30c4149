"""The interface a bridge implements, the settings it declares, and the capabilities bridges
offer one another; bridges are registered by plugins through register_bridges."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypedDict, runtime_checkable

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from .engine import Engine, Job
    from .requests import EditRequest
    from .settings import Settings


class BridgeSettings(BaseModel):
    """What a bridge can be configured with: subclass it and set Bridge.settings_model.

    Each field is a setting of `scorehost serve`, named as the field is (it must begin with the
    bridge's name and an underscore, e.g. ``osc_port`` for the bridge ``osc``), with the flag
    ``--osc-port``, the environment variable ``SCOREHOST_OSC_PORT`` and the config key
    ``osc_port``. A field's description is its help. ``json_schema_extra={"flag": "--x"}`` spells
    the flag otherwise, and ``{"path": "dir" | "existing_dir" | "file"}`` says what a Path names.
    """

    model_config = ConfigDict(extra="forbid")


class Bridge:
    """A way in for clients. start() must return once the bridge is listening; stop() must
    return once it has stopped taking requests.

    Registering a bridge must stay cheap (`scorehost serve --help` registers every bridge to
    list its settings): import servers and their libraries in start(), not at module level.
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    settings_model: ClassVar[type[BridgeSettings]] = BridgeSettings  # no settings of its own

    def start(self, engine: Engine, settings: Settings) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def address(self) -> str:
        """Where clients reach it, for the startup log."""
        return ""

    def own_settings(self, settings: Settings) -> Any:
        """This bridge's settings (an instance of settings_model) out of the server's; fields
        the server's settings lack (they were built without this bridge) take their defaults."""
        model = self.settings_model
        given = {name: getattr(settings, name) for name in model.model_fields if hasattr(settings, name)}
        return model.model_validate(given)


class LiveState(TypedDict):
    """What a live bridge reports: transport, recording and tracks."""

    playing: bool
    position: int  # ticks since the start of the recording
    notes: int  # notes recorded
    bpm: float
    tracks: str  # the recorded tracks' names, comma-separated


@runtime_checkable
class LiveFill(Protocol):
    """A bridge that records what a client plays and fills bars of the recording with a model
    (the MIDI bridge); other bridges (OSC's /scorehost/live/*) find it by this capability, never
    by its name. A bridge offers it by subclassing LiveFill as well as Bridge."""

    name: ClassVar[str]
    running: bool  # started and recording
    default_region: str  # the region a fill writes when the request names none ('' for none)

    def fill(
        self,
        specs: list[str],
        model: str | None = None,
        constraints: list[str] = ...,  # type: ignore[assignment]
        options: dict[str, Any] | None = None,
        timeout: float | None = None,
        play: bool = True,
    ) -> tuple[Job, EditRequest]:
        """Submit a fill of the recording's regions (text forms, e.g. ch2:5-8); play it when done."""
        ...

    def clear(self) -> None:
        """Forget the recording and stop playing fills."""
        ...

    def state(self) -> LiveState: ...
