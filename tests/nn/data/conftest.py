"""Shared fixtures for the dataset tests.

Every test runs with an empty, private cache folder, downloads switched off
(NEUROEVO_OFFLINE=1), no NEUROEVO_DATA and no system folders, so nothing outside the test's
own files is found and nothing touches the network. Tests of the real copies ask for
``shared_data`` / ``fashion_dir`` and call ``need(path)``: missing data skip the test
(which fails it when CI is "true": tests/conftest.py).
"""

from __future__ import annotations

import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

# read before any fixture clears it
_ENV_DATA = os.environ.get("NEUROEVO_DATA", "")
SHARED_DATA = (Path(_ENV_DATA.split(os.pathsep)[0]) if _ENV_DATA.strip()
               else Path(__file__).parents[3].parent / "shared" / "datasets")
FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")


def _need(path: Path, what: str = "") -> Path:
    if not Path(path).exists():
        pytest.skip(f"real data not found: {path}{' (' + what + ')' if what else ''}; "
                    f"set NEUROEVO_DATA or install dataset-fashion-mnist")
    return Path(path)


@pytest.fixture
def need():
    """need(path, what="") -> path; skips the test when it is missing."""
    return _need


@pytest.fixture
def shared_data() -> Path:
    """The shared real datasets (NEUROEVO_DATA, else ../shared/datasets); may not exist."""
    return SHARED_DATA


@pytest.fixture
def fashion_dir() -> Path:
    return FASHION_DIR


@pytest.fixture(autouse=True)
def isolated_env(tmp_path, monkeypatch):
    """A private cache, no downloads, no NEUROEVO_DATA, no system dataset folders."""
    from nn.data import locate

    cache_home = tmp_path / "xdg-cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache_home))
    monkeypatch.setenv(locate.ENV_OFFLINE, "1")
    monkeypatch.delenv(locate.ENV_DATA, raising=False)
    saved = list(locate.FASHION_SYSTEM_DIRS)
    locate.FASHION_SYSTEM_DIRS.clear()  # the Fashion spec holds this very list
    yield cache_home / "neuroevo"
    locate.FASHION_SYSTEM_DIRS[:] = saved


class _Handler(BaseHTTPRequestHandler):
    routes: dict = {}

    def do_GET(self):  # noqa: N802 - http.server API
        route = self.routes.get(self.path)
        if route is None:
            self.send_error(404, "no such file")
            return
        kind, body = route
        if kind == "error":
            self.send_error(500, "server exploded")
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        if kind == "truncate":  # promise more than is sent, then hang up
            self.send_header("Content-Length", str(len(body) * 2))
        else:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()
        if kind == "truncate":
            self.close_connection = True

    def log_message(self, *args):  # keep test output quiet
        pass


@pytest.fixture
def http_server():
    """A local HTTP server on 127.0.0.1: ``serve(path, body, kind="ok"|"truncate"|"error")``
    registers a route and returns its URL."""
    routes: dict = {}
    handler = type("Handler", (_Handler,), {"routes": routes})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02},
                              daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"

    def serve(path: str, body: bytes = b"", kind: str = "ok") -> str:
        routes[path] = (kind, body)
        return base + path

    serve.base = base
    try:
        yield serve
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
