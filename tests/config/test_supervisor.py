"""The demo's supervisor (config/supervisor.py): a dead process is started again, one that keeps dying at start is
given up on, and a dead embedded Redis comes back on its port with what it held."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pytest
import redis

from config import embedded
from config.supervisor import Child, Supervisor, SupervisorGaveUp

REPO = Path(__file__).resolve().parents[2]
SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]


def poll_until(supervisor: Supervisor, done: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not done():  # type: ignore[operator]
        assert time.monotonic() < deadline, "the supervisor did not get there in time"
        supervisor.poll()
        time.sleep(0.05)


def test_a_killed_process_is_started_again() -> None:
    supervisor = Supervisor([Child("web", SLEEPER)], cwd=REPO)
    supervisor.start()
    try:
        first = supervisor.child("web").pid
        assert first is not None
        os.killpg(first, signal.SIGKILL)  # as the OOM killer or an operator's kill -9 would

        poll_until(supervisor, lambda: supervisor.child("web").pid not in (None, first))

        assert supervisor.child("web").restarts == 1
        assert supervisor.child("web").exits[0][1] == -signal.SIGKILL
    finally:
        supervisor.stop()
    assert supervisor.child("web").pid is None, "stop() leaves nothing running"


def test_a_process_that_keeps_dying_at_start_is_given_up_after_a_backoff() -> None:
    crasher = Child("worker", [sys.executable, "-c", "raise SystemExit(3)"])
    supervisor = Supervisor([crasher, Child("web", SLEEPER)], cwd=REPO, max_fast_crashes=4, backoff_s=0.1)
    supervisor.start()
    started = time.monotonic()
    try:
        with pytest.raises(SupervisorGaveUp, match=r"worker exited 4 times .* \(last exit code 3\)"):
            poll_until(supervisor, lambda: False)
        # restarted 3 times, waiting 0, 0.1 and 0.2 s between: a backoff, not a spin
        assert crasher.restarts == 3
        assert time.monotonic() - started >= 0.3
        assert supervisor.child("web").pid is not None, "the others ran on meanwhile"
    finally:
        supervisor.stop()


def test_a_killed_embedded_redis_is_started_again_on_its_port_with_its_data() -> None:
    if os.environ.get("REDIS_URL"):
        pytest.skip("Redis is external here: its own supervisor keeps it up")
    url = embedded.redis_url()
    client = redis.Redis.from_url(url.rsplit("/", 1)[0] + "/15", socket_timeout=2)
    client.set("supervisor-test", "kept")
    pid = embedded._read_state()["redis_pid"]
    supervisor = Supervisor([], cwd=REPO, watch_redis=True)

    os.kill(pid, signal.SIGKILL)
    while embedded.pid_alive(pid):
        time.sleep(0.01)
    killed = time.monotonic()
    poll_until(supervisor, embedded.redis_alive)

    assert embedded.redis_url() == url, "the same port: the running processes hold that URL"
    assert client.get("supervisor-test") == b"kept", "the append-only file brought back what Redis held"
    assert time.monotonic() - killed < 10
    assert len(supervisor.redis_restarts) == 1
    client.delete("supervisor-test")
