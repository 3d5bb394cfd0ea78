"""The gunicorn settings `make demo` (and a deployment) uses load and mean what they say, and a handful of slow
clients cannot stall the site."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def test_gunicorn_config_is_valid_and_reads_its_environment() -> None:
    env = {"DRAGONREC_WEB_WORKERS": "3", "DRAGONREC_WEB_THREADS": "2", "PATH": "/usr/bin:/bin"}
    code = (
        "from gunicorn.config import Config; c = Config(); "
        "exec(open('config/gunicorn.py').read(), ns := {}); "
        "[c.set(k, v) for k, v in ns.items() if k in c.settings]; "
        "print(c.workers, ns['app_threads'], c.threads, c.worker_class_str, c.preload_app, "
        "callable(c.post_worker_init), c.max_requests)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, check=True)
    # 2 threads run the application; gunicorn's 32 read requests and write answers
    assert out.stdout.split() == ["3", "2", "32", "gthread", "True", "True", "0"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server() -> Iterator[int]:
    """config/gunicorn.py as `make demo` runs it, one process with its 4 application threads, serving a tiny app."""
    port = free_port()
    env = dict(os.environ, DRAGONREC_BIND=f"127.0.0.1:{port}", DRAGONREC_WEB_WORKERS="1", DRAGONREC_WEB_THREADS="4")
    cmd = [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.py", "tests.config.slow_clients_app:application"]
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("gunicorn did not start") from None
                time.sleep(0.1)
        yield port
    finally:
        proc.terminate()
        proc.wait(20)


def trickle(port: int, head: bytes, stop: threading.Event) -> None:
    """A slowloris connection: a request started and never finished, one more byte every half second."""
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(head)
        while not stop.wait(0.5):
            try:
                sock.sendall(b"x")
            except OSError:
                return


def test_eight_slow_connections_do_not_stall_other_requests(server: int) -> None:
    # given 8 connections trickling a request a byte at a time: 4 in their headers, 4 in a declared 10 kB body
    stop = threading.Event()
    heads = [b"GET / HTTP/1.1\r\nHost: shop\r\nX-Slow: "] * 4
    heads += [b"POST / HTTP/1.1\r\nHost: shop\r\nContent-Type: application/json\r\nContent-Length: 10000\r\n\r\n"] * 4
    slow = [threading.Thread(target=trickle, args=(server, head, stop), daemon=True) for head in heads]
    for thread in slow:
        thread.start()
    time.sleep(1.5)  # they hold their connections now
    try:
        # when other clients ask, each gets its answer at once
        for _ in range(10):
            started = time.monotonic()
            conn = http.client.HTTPConnection("127.0.0.1", server, timeout=3)
            conn.request("POST", "/", body=b'{"q": 1}', headers={"Content-Type": "application/json"})
            answer = json.loads(conn.getresponse().read())
            conn.close()
            assert time.monotonic() - started < 1.0
            assert answer["bytes"] == 8
    finally:
        stop.set()


def test_at_most_the_application_threads_run_django_at_once(server: int) -> None:
    """The slots bound the work, whatever the number of connections: 12 requests that each stay 0.3 s in the
    application, sent together to a process with 4 application threads, never run more than 4 at a time."""

    def ask(_: int) -> dict[str, int]:
        conn = http.client.HTTPConnection("127.0.0.1", server, timeout=10)
        conn.request("GET", "/?hold=0.3")
        answer: dict[str, int] = json.loads(conn.getresponse().read())
        conn.close()
        return answer

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(pool.map(ask, range(12)))
    assert max(a["peak"] for a in answers) == 4
    assert time.monotonic() - started >= 0.9  # three waves of four
