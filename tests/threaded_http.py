"""A local HTTP server on a free port, served by a daemon thread: what the test proxies stand on.

Both proxies (the flaky one of ``tests/conftest.py`` and the fault injector of
``tests/trust/faultkit.py``) sit between a client and a node; only their handlers differ.
"""

from __future__ import annotations

import http.server
import threading

from crowdsense.chain.node import free_port

__all__ = ["ThreadedServer"]


class ThreadedServer:
    """``handler`` served on ``127.0.0.1`` at a free port until :meth:`close`; ``url`` names it."""

    def __init__(self, handler: type[http.server.BaseHTTPRequestHandler]) -> None:
        port = free_port()
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.server.daemon_threads = True  # a request stuck in a stall never blocks the test's exit
        self.url = f"http://127.0.0.1:{port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
