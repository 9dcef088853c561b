"""A plain static web server for a feed folder, on 127.0.0.1 only: for tests and demos.

Production feeds go behind any static web server (UPDATES.md); this one exists so tests and
`invoke updates.serve` need nothing else. It resolves each request against the folder's path,
so a feed changed by publish/rollout/withdraw (a folder swapped in) is served at once.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

from build_scripts.core.errors import ConfigError

HOST = "127.0.0.1"


class _Handler(http.server.SimpleHTTPRequestHandler):
    quiet = False

    def end_headers(self) -> None:
        # A feed changes in place: clients and proxies must ask again every time.
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args: object) -> None:
        if not self.quiet:
            super().log_message(format, *args)


def make_server(folder: Path, port: int = 0, *, quiet: bool = True) -> http.server.HTTPServer:
    if not folder.is_dir():
        raise ConfigError(f"feed folder {folder} does not exist", "publish a release into it first")
    handler = type("FeedHandler", (_Handler,), {"quiet": quiet})
    try:
        return http.server.ThreadingHTTPServer(
            (HOST, port), functools.partial(handler, directory=str(folder))
        )
    except OSError as error:
        raise ConfigError(f"cannot listen on {HOST}:{port}: {error.strerror}") from None


def url_of(server: http.server.HTTPServer) -> str:
    return f"http://{HOST}:{server.server_address[1]}/"


@contextlib.contextmanager
def serving(folder: Path, port: int = 0) -> Iterator[str]:
    """Serve folder in a background thread while the block runs; yields the feed URL."""
    server = make_server(folder, port)
    thread = threading.Thread(target=server.serve_forever, name="feed-server", daemon=True)
    thread.start()
    try:
        yield url_of(server)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
