"""Refuse request bodies over a size limit before reading them whole, or that arrive too
slowly; `refuse` answers for every ASGI guard of the bridge, in the app's JSON error shape."""

from __future__ import annotations

import asyncio
import json


class BodySizeLimit:
    """Pure ASGI middleware: a declared Content-Length over the limit is refused at once; a
    body that streams past it (chunked) is cut off and refused the same way. The whole body
    must arrive within `timeout` seconds of the headers, else it is answered 408 and the
    connection closed: a client trickling its body a byte at a time would otherwise hold its
    connection, and a slot of the server's connection limit, for as long as it liked (the
    header timeout of protocol.py ends once the headers are in)."""

    def __init__(self, app, max_bytes: int, timeout: float = 60.0):
        self.app, self.max_bytes, self.timeout = app, max_bytes, timeout

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = scope.get("headers", [])
        lengths = [value for name, value in headers if name == b"content-length"]
        if lengths and any(name == b"transfer-encoding" for name, _ in headers):
            # Two framings: a proxy in front may read the body by the other one (request smuggling)
            return await refuse(
                send, 400, "bad_request", "a request may not carry both Content-Length and Transfer-Encoding"
            )
        declared = lengths[0] if lengths else None
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            return await self._refuse(send)
        # Read the body here, counting, so an over-long streamed body is refused before the
        # app sees any of it; the app then reads it from memory (at most max_bytes).
        chunks, seen = [], 0
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        while True:
            try:
                message = await asyncio.wait_for(receive(), max(0.0, deadline - loop.time()))
            except TimeoutError:
                return await refuse(
                    send,
                    408,
                    "body_timeout",
                    f"the request body did not arrive within {self.timeout:g} s of its headers "
                    f"({seen:,} bytes came); send it whole, at once",
                )
            if message["type"] != "http.request":
                return  # the client went away
            chunks.append(message.get("body", b""))
            seen += len(chunks[-1])
            if seen > self.max_bytes:
                return await self._refuse(send)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        sent = False

        async def replay():
            nonlocal sent
            if sent:
                return await receive()  # later calls wait for the disconnect, as ASGI expects
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _refuse(self, send) -> None:
        await refuse(
            send, 413, "too_large", f"the request body is over the limit of {self.max_bytes:,} bytes"
        )


async def refuse(send, status: int, code: str, message: str, headers: list[tuple[bytes, bytes]] = ()) -> None:
    """Answer from ASGI middleware with the app's JSON error, closing the connection (the body,
    if any, is left unread)."""
    body = json.dumps({"error": {"code": code, "message": message, "field": None}}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
