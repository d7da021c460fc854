"""A decision service really served: uvicorn in a thread, on a free loopback port."""
from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import uvicorn

from policyengine.service.app import create_app
from policyengine.service.auth import Tokens
from policyengine.service.config import ServiceConfig


@contextmanager
def serving(config: ServiceConfig | None = None, tokens: Tokens | None = None) -> Iterator[str]:
    """The base URL of the service for `config`, served until the block ends."""
    app = create_app(config or ServiceConfig(), tokens)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        listener.close()


@contextmanager
def client(config: ServiceConfig | None = None, tokens: Tokens | None = None) -> Iterator[httpx.Client]:
    with serving(config, tokens) as base, httpx.Client(base_url=base, timeout=30) as http:
        yield http
