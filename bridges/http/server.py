"""The HTTP bridge: the API app served by uvicorn in a thread of `scorehost serve`."""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

from scorehost.core.bridge import Bridge
from scorehost.core.errors import ScorehostError

from .settings import HttpSettings
from .shutdown import Shutdown

if TYPE_CHECKING:
    import uvicorn

log = logging.getLogger("scorehost.http")


class HttpBridge(Bridge):
    name = "http"
    description = (
        "JSON API over HTTP (MuseScore plugin, web clients, scripts), with an OpenAPI spec at /openapi.json"
    )

    settings_model = HttpSettings

    def __init__(self) -> None:
        self.server: uvicorn.Server | None = None
        self.thread: threading.Thread | None = None
        self.port: int | None = None
        self.shutdown = Shutdown()  # set by stop(), read by the app's waiting requests

    def start(self, engine, settings) -> None:
        # imported here: registering the bridge (serve --help does) must stay cheap
        import uvicorn

        from .app import create_app
        from .protocol import guarded_protocol

        own = self.own_settings(settings)
        port = own.http_port
        config = uvicorn.Config(
            create_app(engine, settings, self.shutdown, own.http_body_timeout),
            host=settings.host,
            port=port,
            log_level="info",
            access_log=True,
            timeout_graceful_shutdown=5,
            limit_concurrency=own.http_max_connections,  # answered by protocol.py, as JSON
            http=guarded_protocol(own.http_header_timeout, own.http_max_pending),
        )
        self.server = uvicorn.Server(config)
        self.server.install_signal_handlers = lambda: None  # serve owns the signals
        self.thread = threading.Thread(target=self.server.run, name="scorehost-http", daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise ScorehostError(
                    f"the HTTP bridge could not listen on {settings.host}:{port} (is the port taken?)"
                )
            time.sleep(0.02)
        self.port = self.server.servers[0].sockets[0].getsockname()[1]
        self.host = settings.host

    def address(self) -> str:
        return f"http://{self.host}:{self.port}" if self.port else ""

    def stop(self) -> None:
        # Synchronous edits still waiting answer a JSON 503 now; uvicorn then closes their
        # connections once answered, instead of cutting them off with a plain-text 500.
        self.shutdown.set()
        if self.server is not None:
            self.server.should_exit = True
        if self.thread is not None:
            self.thread.join(10)
