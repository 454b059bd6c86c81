"""Serve an ASGI app on a loopback socket, as a task in the test's own event loop.

Shared by the fake Bot API, the fake Zalo API and the Zalo end-to-end fixture::

    async with LoopbackServer(app) as server:
        await httpx.AsyncClient().get(f"{server.url}/health")

It starts and stops in milliseconds: no signal handlers (pytest owns them), an event-driven main
loop instead of uvicorn's 0.1 s polling, and a shutdown that waits only as long as connections are
still open instead of uvicorn's fixed 0.1 s sleep (per test!). A startup failure is re-raised from
`start()`/`__aenter__`.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from typing import Any

import uvicorn

HOST = "127.0.0.1"


class _QuietServer(uvicorn.Server):
    """uvicorn without signal handlers, with an event-driven start, main loop and shutdown."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = asyncio.Event()
        self.exit_event = asyncio.Event()
        self.abort = False  # an outage: cut the connections instead of closing them politely

    def capture_signals(self) -> contextlib.nullcontext[None]:  # type: ignore[override]
        return contextlib.nullcontext()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        self.ready.set()

    async def main_loop(self) -> None:
        await self.on_tick(0)  # sets the default headers
        await self.exit_event.wait()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """Wait only until the connections are gone, then cancel what is left after the
        graceful timeout."""
        for server in self.servers:
            server.close()
        for connection in list(self.server_state.connections):
            if self.abort:  # RST mid-request, like a crashed or unplugged server
                transport = getattr(connection, "transport", None)
                if transport is not None:
                    transport.abort()
            else:
                connection.shutdown()
        if self.abort:
            for task in list(self.server_state.tasks):
                task.cancel()
        try:
            async with asyncio.timeout(self.config.timeout_graceful_shutdown or 0):
                while self.server_state.connections or self.server_state.tasks:
                    await asyncio.sleep(0.001)
        except TimeoutError:
            for task in self.server_state.tasks:
                task.cancel()
        await self.lifespan.shutdown()


class LoopbackServer:
    """`app` served on 127.0.0.1 at a free port; `port` and `url` are set once started."""

    def __init__(self, app: Any, *, name: str = "loopback server", stop_timeout: float = 5):
        self.app = app
        self.name = name  # for the error raised when the server exits during startup
        self.stop_timeout = stop_timeout
        self.port = 0
        self._sock: socket.socket | None = None
        self._server: _QuietServer | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        """http://127.0.0.1:PORT, without a trailing slash."""
        return f"http://{HOST}:{self.port}"

    async def start(self) -> None:
        # proto=IPPROTO_TCP matters: asyncio only sets TCP_NODELAY on accepted sockets whose
        # proto is TCP; with proto 0 every keep-alive request stalls ~40 ms (Nagle + delayed ACK).
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((HOST, self.port))  # the same port again after an outage
        self.port = self._sock.getsockname()[1]
        config = uvicorn.Config(
            self.app, log_config=None, log_level="warning", access_log=False, lifespan="off",
            timeout_graceful_shutdown=2,
        )  # fmt: skip
        self._server = server = _QuietServer(config)
        self._task = asyncio.create_task(server.serve(sockets=[self._sock]))
        ready = asyncio.create_task(server.ready.wait())
        try:
            await asyncio.wait({ready, self._task}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            ready.cancel()
        if not server.started:
            self._sock.close()
            await self._task  # re-raise the startup error
            raise RuntimeError(f"{self.name} exited during startup")

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            self._server.exit_event.set()
            await asyncio.wait_for(self._task, timeout=self.stop_timeout)
        if self._sock is not None:
            self._sock.close()

    async def cut(self) -> None:
        """A real outage: stop accepting (connections are refused) and reset every open
        connection, a long poll in the middle of its wait included. `resume()` ends it."""
        if self._server is not None and self._task is not None:
            self._server.abort = True
            self._server.should_exit = True
            self._server.exit_event.set()
            await asyncio.wait_for(self._task, timeout=self.stop_timeout)
            self._server = self._task = None
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    async def resume(self) -> None:
        """Serve again on the same port after `cut()`."""
        await self.start()

    @property
    def down(self) -> bool:
        return self._server is None

    async def __aenter__(self) -> LoopbackServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()
