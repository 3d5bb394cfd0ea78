"""A tiny WSGI application for tests/config/test_gunicorn.py: answers how many body bytes it got, and which thread
ran it, so the test measures the server model of config/gunicorn.py and not Django's start-up."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from typing import Any


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    answer = json.dumps({"bytes": len(body), "thread": threading.current_thread().name}).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(answer)))])
    return [answer]
