"""Slow clients cost a connection thread, never a thread that runs Django (config/gunicorn.py installs this).

gunicorn's gthread worker reads a request in one of its threads, blocking: a client that trickles its headers or
its body a byte a second holds that thread for as long as it likes, and 8 such connections stalled every request of
`make demo` (2 processes x 4 threads; a catalog GET took 4.2 s). So the roles are split:

- gunicorn's threads (`DRAGONREC_WEB_IO_THREADS`, many: an idle or waiting thread costs a little memory) read
  requests, buffer bodies up to the body limit here, and write answers;
- only once the request is buffered does its thread take one of a few application slots per process
  (`DRAGONREC_WEB_THREADS`, one per core's worth as before) and run Django on it. At most that many requests
  run the GIL-heavy work or hold a database connection (closed after each request) at once, so throughput and the
  number of PostgreSQL connections stay what they were.

This lets the demo (and a deployment without a proxy) shrug off a handful of slow connections; it does not make
gunicorn a buffering proxy. Production puts nginx in front (docs/operations.md, "Slow clients").
"""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Callable, Iterable
from typing import Any

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
READ_CHUNK = 64 * 1024


def max_body_bytes() -> int:
    """The body limit of the settings (DATA_UPLOAD_MAX_MEMORY_SIZE reads the same variable): a larger body is not
    buffered here but refused by config.middleware.BodySizeLimitMiddleware before anyone reads it."""
    return int(os.environ.get("DRAGONREC_MAX_BODY_BYTES") or 1024 * 1024)


class BufferedApp:
    """Wraps a WSGI application: read the whole body in the calling (connection) thread, then run the application in
    that thread once one of `app_threads` slots is free; the connection thread writes the answer."""

    def __init__(self, app: WSGIApp, app_threads: int, max_body: int | None = None) -> None:
        self.app = app
        self.max_body = max_body_bytes() if max_body is None else max_body
        # At most `app_threads` requests run the application at once, each in the connection thread that read it:
        # handing it to a pool thread and back cost ~21 us of CPU a request (two thread wake-ups and a Future) against
        # ~2 us for the semaphore (bench: BufferedApp around an empty application), and the same bound holds.
        self.slots = threading.BoundedSemaphore(app_threads)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0  # the application answers the bad header (a 400)
        if 0 < length <= self.max_body:
            body = self._read(environ["wsgi.input"], length)
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))  # shorter when the client went away mid-body
        # The answer's iterable is written by this (connection) thread: a streamed file (WhiteNoise) or a slow
        # reader of the answer holds no application thread either.
        with self.slots:
            return self.app(environ, start_response)

    @staticmethod
    def _read(stream: Any, length: int) -> bytes:
        chunks, left = [], length
        while left > 0:
            chunk = stream.read(min(READ_CHUNK, left))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)
