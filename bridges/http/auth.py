"""The token check, as ASGI middleware outside the app: it covers every route (the OpenAPI
spec and /docs too, which FastAPI serves outside its dependencies) and runs before the body
is read or parsed, so a request without the token learns nothing but 401, whatever it sent."""

from __future__ import annotations

import hmac

from .limits import refuse


class TokenCheck:
    def __init__(self, app, token: str | None):
        self.app = app
        self.expected = f"Bearer {token}".encode() if token else None

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or self.expected is None:
            return await self.app(scope, receive, send)
        given = [value for name, value in scope.get("headers", []) if name == b"authorization"]
        # compare_digest: the time taken says nothing about how much of the token was right
        if len(given) != 1 or not hmac.compare_digest(given[0], self.expected):
            return await refuse(
                send,
                401,
                "unauthorized",
                "missing or wrong token: send the header Authorization: Bearer TOKEN",
                [(b"www-authenticate", b"Bearer")],
            )
        await self.app(scope, receive, send)
