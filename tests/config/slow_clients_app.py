"""A tiny WSGI application for tests/config/test_gunicorn.py: answers how many body bytes it got and how many
requests were running in the application at once (the most it has seen), so the test measures the server model of
config/gunicorn.py and not Django's start-up. `?hold=S` keeps a request in the application for S seconds."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

_lock = threading.Lock()
_running = 0
_peak = 0


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    global _running, _peak
    with _lock:
        _running += 1
        _peak = max(_peak, _running)
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        hold = environ.get("QUERY_STRING", "").removeprefix("hold=")
        if hold:
            time.sleep(float(hold))
    finally:
        with _lock:
            _running -= 1
    answer = json.dumps({"bytes": len(body), "peak": _peak}).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(answer)))])
    return [answer]
