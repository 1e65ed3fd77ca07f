"""Fixtures for the dataset tests: isolated cache folders and a local HTTP server."""

import http.server
import threading

import pytest

from nlpbook.datasets import test_mirror


@pytest.fixture(scope="session")
def data_env(tmp_path_factory):
    """A fresh cache for the session and the shared mirror (``$NLPBOOK_MIRROR`` or
    ``<repo>/../shared/data``); tests then call ``require(name)``, which skips when data is
    unreachable, or fails under ``CI=true``."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NLPBOOK_DATA", str(tmp_path_factory.mktemp("nlpbook-cache")))
        mp.setenv("NLPBOOK_PROGRESS", "0")
        mp.setenv("NLPBOOK_OFFLINE", "1")
        found = test_mirror()
        if found is not None:
            mp.setenv("NLPBOOK_MIRROR", str(found))
        yield


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """An empty cache in ``tmp_path/cache``, no mirror, network allowed (local server only)."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("NLPBOOK_DATA", str(cache))
    monkeypatch.delenv("NLPBOOK_MIRROR", raising=False)
    monkeypatch.delenv("NLPBOOK_OFFLINE", raising=False)
    monkeypatch.setenv("NLPBOOK_PROGRESS", "0")
    for var in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    return cache


class _Handler(http.server.BaseHTTPRequestHandler):
    files: dict[str, bytes] = {}

    def do_GET(self):
        kind, _, name = self.path.lstrip("/").partition("/")
        body = self.files.get(name)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        if kind == "truncated":  # announce more than is sent, then hang up
            self.send_header("Content-Length", str(len(body) + 1000))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):  # keep the test output clean
        pass


@pytest.fixture
def http_files():
    """``(base_url, files)``: a server on 127.0.0.1 serving ``files[name]`` at
    ``base_url/full/<name>``, and at ``base_url/truncated/<name>`` half of it under a
    Content-Length 1000 bytes too large."""
    files: dict[str, bytes] = {}
    handler = type("Handler", (_Handler,), {"files": files})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", files
    finally:
        server.shutdown()
        server.server_close()
