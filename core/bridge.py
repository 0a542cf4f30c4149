"""The interface a bridge implements; bridges are registered by plugins through register_bridges."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from .engine import Engine
    from .settings import Settings


class Bridge:
    """A way in for clients. start() must return once the bridge is listening; stop() must
    return once it has stopped taking requests."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""

    def start(self, engine: Engine, settings: Settings) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def address(self) -> str:
        """Where clients reach it, for the startup log."""
        return ""
