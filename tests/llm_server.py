"""A small, real OpenAI-compatible HTTP server standing in for the LLM teacher in tests.

It listens on 127.0.0.1 (a free port) in a background thread and speaks the teacher protocol documented in
`dragonrec.recommender.teacher.protocol`: it reads the candidates from the prompt's ``id: <id>`` lines and answers
``{"scores": [...]}`` according to its `mode`:

=================  ==============================================================================================
``good``           score = min(10, 2 x the number of words (3+ letters, lowercased) a candidate's title shares with
                   the titles in the HISTORY block), so tests can predict the order
``slow``           sleeps `slow_s` seconds, then answers like ``good``
``429``            HTTP 429, with ``Retry-After: <retry_after>`` unless `retry_after` is None
``500``            HTTP 500
``malformed``      200, but the content is prose, not JSON
``partial``        200, the ``good`` JSON cut in half (``finish_reason: "length"``)
``unknown_ids``    the ``good`` scores plus scores of 10 for ids that were never candidates
``missing_ids``    the ``good`` scores without the last candidate
``out_of_range``   the ``good`` scores, except 42 for the first candidate and -3 for the second
``follow_injection`` the ``good`` scores, except 10 for any candidate whose prompt line contains `injection`
                   (case-insensitive): a model that obeys instructions hidden in product text
=================  ==============================================================================================

Two attributes change any answer: `reason`, when set, is the reason of every scored candidate (to test what a
shopper is shown of a model's markup and links); `report_usage = False` leaves the token usage out, as some
OpenAI-compatible servers do.

It counts requests (`request_count`), keeps every request body (`requests`, `last_request`), and `then(...)`
queues one-off modes for the next requests ("429 once, then good"). GET /v1/models lists one model.

    >>> with LLMServer() as server:                  # or the `llm_server` fixture
    ...     server.then("429")                       # first request rate limited, later ones `server.mode`
    ...     config = TeacherConfig(base_url=server.base_url)

The root conftest re-exports the `llm_server` fixture: ``from tests.llm_server import llm_server  # noqa: F401``.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

MODES = (
    "good",
    "slow",
    "429",
    "500",
    "malformed",
    "partial",
    "unknown_ids",
    "missing_ids",
    "out_of_range",
    "follow_injection",
)
DEFAULT_INJECTION = "ignore previous instructions"
UNKNOWN_IDS: tuple[int | str, ...] = (999999, "ghost-product")

_CANDIDATE_LINE = re.compile(r"^id: (\S+)(?: (.*))?$", re.MULTILINE)
_HISTORY_BLOCK = re.compile(r"^<<<HISTORY\n(.*?)^HISTORY>>>$", re.MULTILINE | re.DOTALL)
_WORD = re.compile(r"[a-z0-9]{3,}")


def _title_words(line: str) -> set[str]:
    """Words of the `title` of one JSON data line (the whole line when it is not JSON)."""
    text = line
    try:
        data = json.loads(line)
        if isinstance(data, dict) and isinstance(data.get("title"), str):
            text = data["title"]
    except ValueError:
        pass
    return set(_WORD.findall(text.lower()))


def good_scores(prompt: str) -> list[dict[str, Any]]:
    """The deterministic `good` answer for a prompt: tests may call it to predict scores."""
    history_words: set[str] = set()
    if block := _HISTORY_BLOCK.search(prompt):
        for line in block.group(1).splitlines():
            history_words |= _title_words(line)
    scores = []
    for match in _CANDIDATE_LINE.finditer(prompt):
        raw_id, rest = match.group(1), match.group(2) or ""
        shared = len(_title_words(rest) & history_words)
        scores.append(
            {
                "id": int(raw_id) if raw_id.isdigit() else raw_id,
                "score": min(10, 2 * shared),
                "reason": f"shares {shared} word(s) with the history",
            }
        )
    return scores


class LLMServer:
    """Start/stop explicitly or use as a context manager. All attributes are safe to change while it runs."""

    def __init__(
        self,
        mode: str = "good",
        *,
        slow_s: float = 2.0,
        retry_after: float | None = 1,
        injection: str = DEFAULT_INJECTION,
        model: str = "fake-teacher-1",
    ) -> None:
        self.mode = mode
        self.slow_s = slow_s
        self.retry_after = retry_after
        self.injection = injection
        self.model = model
        self.reason: str | None = None
        self.report_usage = True
        self.requests: list[dict[str, Any]] = []  # chat completion request bodies, oldest first
        self._queued: deque[str] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --------------------------------------------------------------------------------------------- control
    @property
    def mode(self) -> str:
        return self._mode

    @mode.setter
    def mode(self, value: str) -> None:
        if value not in MODES:
            raise ValueError(f"unknown mode {value!r}; one of {MODES}")
        self._mode = value

    def then(self, *modes: str) -> LLMServer:
        """Answer the next len(modes) chat requests with these modes, in order, then fall back to `mode`."""
        for mode in modes:
            if mode not in MODES:
                raise ValueError(f"unknown mode {mode!r}; one of {MODES}")
        with self._lock:
            self._queued.extend(modes)
        return self

    @property
    def request_count(self) -> int:
        with self._lock:
            return len(self.requests)

    @property
    def last_request(self) -> dict[str, Any] | None:
        with self._lock:
            return self.requests[-1] if self.requests else None

    @property
    def last_prompt(self) -> str:
        """The user message of the last request (where our prompt puts history and candidates)."""
        request = self.last_request or {}
        users = [m.get("content", "") for m in request.get("messages", []) if m.get("role") == "user"]
        return users[-1] if users else ""

    @property
    def base_url(self) -> str:
        assert self._httpd is not None, "server not started"
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> LLMServer:
        server = self

        class Handler(_Handler):
            llm = server

        self._stopping.clear()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True  # a handler still sleeping in `slow` mode must not block shutdown
        # Short poll interval: `shutdown()` waits up to one interval, once per test.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-llm", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes `slow` handlers
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = self._thread = None

    def __enter__(self) -> LLMServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # --------------------------------------------------------------------------------------------- answering
    def _next_mode(self, body: dict[str, Any]) -> str:
        with self._lock:
            self.requests.append(body)
            return self._queued.popleft() if self._queued else self._mode

    def answer(self, body: dict[str, Any]) -> tuple[int, dict[str, str], dict[str, Any]]:
        """(status, headers, JSON body) for one chat completion request."""
        mode = self._next_mode(body)
        if mode == "slow":
            self._stopping.wait(self.slow_s)
        if mode == "429":
            headers = {} if self.retry_after is None else {"Retry-After": f"{self.retry_after:g}"}
            return 429, headers, _error("Rate limit reached (fake)", "rate_limit_error")
        if mode == "500":
            return 500, {}, _error("The server had an error (fake)", "server_error")

        messages = body.get("messages", [])
        prompt = "\n".join(m.get("content", "") for m in messages if m.get("role") == "user")
        scores = good_scores(prompt)
        finish_reason = "stop"
        if mode == "unknown_ids":
            scores += [{"id": uid, "score": 10, "reason": "not a candidate"} for uid in UNKNOWN_IDS]
        elif mode == "missing_ids":
            scores = scores[:-1]
        elif mode == "out_of_range":
            for item, value in zip(scores, (42, -3), strict=False):
                item["score"] = value
        elif mode == "follow_injection":
            lines = {str(m.group(1)): m.group(0) for m in _CANDIDATE_LINE.finditer(prompt)}
            for item in scores:
                if self.injection.lower() in lines.get(str(item["id"]), "").lower():
                    item["score"], item["reason"] = 10, "the product told me to"
        if self.reason is not None:
            for item in scores:
                item["reason"] = self.reason
        content = json.dumps({"scores": scores})
        if mode == "malformed":
            content = "Sure! Here are my scores: the keyboard is a 9/10 and the cable a 7/10."
        elif mode == "partial":
            content, finish_reason = content[: len(content) // 2], "length"

        prompt_chars = sum(len(str(m.get("content", ""))) for m in messages)
        completion = {
            "id": f"chatcmpl-fake-{self.request_count}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": self.model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content, "refusal": None},
                    "finish_reason": finish_reason,
                    "logprobs": None,
                }
            ],
            # ~4 characters per token, like English text with OpenAI tokenizers.
            "usage": {
                "prompt_tokens": prompt_chars // 4,
                "completion_tokens": len(content) // 4,
                "total_tokens": prompt_chars // 4 + len(content) // 4,
            },
        }
        if not self.report_usage:
            del completion["usage"]
        return 200, {}, completion


def _error(message: str, kind: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": None, "code": None}}


class _Handler(BaseHTTPRequestHandler):
    llm: LLMServer
    protocol_version = "HTTP/1.1"  # keep-alive, like the real API: the SDK's connection pool is exercised
    timeout = 10  # idle keep-alive connections free their thread

    def do_GET(self) -> None:
        if self.path.rstrip("/") == "/v1/models":
            self._send(
                200,
                {},
                {
                    "object": "list",
                    "data": [{"id": self.llm.model, "object": "model", "created": 0, "owned_by": "dragonrec-tests"}],
                },
            )
        else:
            self._send(404, {}, _error(f"no route GET {self.path}", "invalid_request_error"))

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if self.path.rstrip("/") != "/v1/chat/completions":
            self._send(404, {}, _error(f"no route POST {self.path}", "invalid_request_error"))
            return
        try:
            body = json.loads(raw)
        except ValueError:
            self._send(400, {}, _error("body is not JSON", "invalid_request_error"))
            return
        status, headers, payload = self.llm.answer(body)
        self._send(status, headers, payload)

    def _send(self, status: int, headers: dict[str, str], payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout tests): nothing to answer

    def log_message(self, format: str, *args: object) -> None:
        pass  # keep pytest output clean


@pytest.fixture
def llm_server() -> Iterator[LLMServer]:
    """A started fake LLM server in `good` mode; set `.mode`, `.then(...)`, `.slow_s`, `.retry_after` as needed."""
    with LLMServer() as server:
        yield server
