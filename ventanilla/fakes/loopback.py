"""Run an ASGI app (a fake provider API, a fake Rasa, a gateway) on loopback in a thread."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from ventanilla.launcher import free_port


@contextmanager
def serve(app: Any, lifespan: str = "off") -> Iterator[str]:
    """`app` served on 127.0.0.1 until the block ends; yields its base URL. `lifespan="on"` for
    an app whose start-up matters (the gateway itself)."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan=lifespan)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the fake server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
