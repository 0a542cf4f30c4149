"""The HTTP bridge's stop signal, shared by the bridge (which sets it from serve's thread) and
the app (whose waiting requests read it on the event loop); kept free of the web stack, so the
bridge can hold one without importing it."""

from __future__ import annotations

import asyncio
import threading


class Shutdown:
    """Set by the bridge when the server stops: synchronous edits still waiting are answered
    with a JSON 503 at once (their jobs cancelled), rather than cut off by the server."""

    def __init__(self) -> None:
        self._set = threading.Event()
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []
        self._lock = threading.Lock()

    def is_set(self) -> bool:
        return self._set.is_set()

    def set(self) -> None:
        """Thread-safe: wakes every waiter on its own event loop."""
        with self._lock:
            self._set.set()
            waiters = list(self._waiters)
        for loop, event in waiters:
            loop.call_soon_threadsafe(event.set)

    def wake(self, event: asyncio.Event) -> None:
        with self._lock:
            self._waiters.append((asyncio.get_running_loop(), event))
            if self._set.is_set():
                event.set()

    def forget(self, event: asyncio.Event) -> None:
        with self._lock:
            self._waiters = [w for w in self._waiters if w[1] is not event]
