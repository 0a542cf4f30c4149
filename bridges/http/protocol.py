"""uvicorn's h11 protocol with two guards against slowloris (connections that open and then
send a request line and headers slowly, or nothing at all, to use up the server).

- A request's line and headers must arrive within `header_timeout` seconds of the connection
  (or of the previous answer on a kept-alive one), or the connection is closed. uvicorn arms no
  timer until a first answer, and its keep-alive timer is dropped by any byte received.
- While the server holds half its connection limit or more, a client (an address) may hold
  at most `max_pending` connections still waiting for their headers `GRACE` seconds after a
  new one came; beyond that its oldest are closed. Connections that did send their request are
  not counted, so a client whose requests arrive at once is never turned away, even from the
  same address as the attacker (loopback is one address for everyone). The grace matters:
  fifty clients connecting at once are all accepted before the event loop reads the first
  request, and were cut off as if they were slow. So does the pressure: below half the limit
  idle connections cost nothing that matters, while a burst of 200 threads of one client on a
  busy machine can take over a second between connecting and sending (each waits its turn for
  the GIL), and lost requests to the guard when it pruned at any load.

Without them, 1,000 such connections reached uvicorn's limit_concurrency and every other
client got 503 for as long as they were held.

That limit itself (http_max_connections) is kept, but answered here: uvicorn's own answer is a
plain-text "Service Unavailable", chosen inside its handle_events from a module global, so
this protocol takes the limit from uvicorn (leaving its check off) and applies the same test
in front of the app, answering the documented JSON error, 503 busy.
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from .limits import refuse

GRACE = 0.5  # seconds after a connection before the pending ones beyond the limit are closed


class GuardedH11Protocol(H11Protocol):
    header_timeout: float = 10.0
    max_pending: int = 32
    _waiting: dict[str, dict[GuardedH11Protocol, float]]  # per subclass: address -> its pending, since

    _timer: asyncio.TimerHandle | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # uvicorn's check off, ours on: the same limit, answered in the documented shape
        self.max_concurrency, self.limit_concurrency = self.limit_concurrency, None
        self._app, self.app = self.app, self._serve

    async def _serve(self, scope, receive, send) -> None:
        limit = self.max_concurrency
        # uvicorn tests before it creates the request's task; here that task is one of self.tasks
        if limit is not None and (len(self.connections) >= limit or len(self.tasks) > limit):
            self.logger.warning("Exceeded concurrency limit.")
            return await refuse(
                send,
                503,
                "busy",
                f"the server holds its limit of {limit:,} connections and requests "
                "(--http-max-connections); try again shortly",
                [(b"retry-after", b"1")],
            )
        return await self._app(scope, receive, send)

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._await_headers()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:  # the request line and headers are in
            self._stop_waiting()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and self.conn.their_state is h11.IDLE:
            self._await_headers()  # kept alive: the next request must come as promptly

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_waiting()
        super().connection_lost(exc)

    def _await_headers(self) -> None:
        self._stop_waiting()
        self._timer = self.loop.call_later(self.header_timeout, self._close)
        address = self._address()
        self._waiting.setdefault(address, {})[self] = self.loop.time()
        if len(self._waiting[address]) > self.max_pending:
            self.loop.call_later(GRACE, self._prune, address)

    def _under_pressure(self) -> bool:
        limit = self.max_concurrency
        return limit is None or 2 * len(self.connections) >= limit

    def _prune(self, address: str) -> None:
        """Close the client's oldest connections that still wait for headers, beyond the limit,
        while the server holds half its connection limit or more."""
        if not self._under_pressure():
            return
        waiting = self._waiting.get(address, {})
        while len(waiting) > self.max_pending:
            oldest, since = next(iter(waiting.items()))  # dicts keep insertion order
            if self.loop.time() - since < GRACE:
                break  # still within its grace: the next prune sees it
            oldest._close()

    def _stop_waiting(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        address = self._address()
        waiting = self._waiting.get(address)
        if waiting is not None:
            waiting.pop(self, None)
            if not waiting:
                del self._waiting[address]

    def _close(self) -> None:
        self._stop_waiting()
        if not self.transport.is_closing():
            self.transport.close()

    def _address(self) -> str:
        return self.client[0] if self.client else ""


def guarded_protocol(header_timeout: float, max_pending: int) -> type[GuardedH11Protocol]:
    """A protocol class for one server, with its own limits and its own table of connections."""
    return type(
        "GuardedH11Protocol",
        (GuardedH11Protocol,),
        {"header_timeout": header_timeout, "max_pending": max_pending, "_waiting": {}},
    )
