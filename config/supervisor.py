"""A small process supervisor for `make demo` (scripts/demo.py) and bench/faults.py: it keeps the demo's processes
(gunicorn, a Celery worker, Celery beat) and the embedded Redis running.

A child that exits is started again: at once the first time, then after a doubling backoff while it keeps dying
young. It gives up (and the demo stops) only after `MAX_FAST_CRASHES` exits in a row, each within `FAST_EXIT_S` of
its start: a process that cannot start (a port taken, a broken setting) is reported, not restarted forever. A child
that ran longer than `FAST_EXIT_S` starts with a clean record. The embedded Redis (config.embedded) is checked on
every round and started again on the same port when it has died; its append-only file brings back what it held.

Production has its own supervisor (systemd, Kubernetes, supervisord): this one exists so the demo behaves like a
supervised deployment, and so the fault benchmark can kill things and watch the system come back by itself.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

logger = logging.getLogger(__name__)

FAST_EXIT_S = 10.0  # a child that dies sooner than this after its start counts as crashing at start
MAX_FAST_CRASHES = 5  # that many in a row: it will not come up by itself (backoff 0, 1, 2, 4 s between them)
BACKOFF_MAX_S = 30.0
POLL_S = 0.25  # how often children and Redis are checked: a dead child is seen within this
STOP_TIMEOUT_S = 30.0  # gunicorn's graceful timeout is 5 s; a Celery warm shutdown finishes its running task


class SupervisorGaveUp(RuntimeError):
    """A child kept dying at start; the message names it and its last exit code."""


@dataclass
class Child:
    name: str
    argv: list[str]
    env: dict[str, str] | None = None
    proc: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    fast_crashes: int = 0  # consecutive exits within FAST_EXIT_S of a start
    restart_at: float | None = None  # when a dead child is due to start again
    restarts: int = 0
    exits: list[tuple[float, int]] = field(default_factory=list)  # (when, exit code), for reports

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None and self.proc.poll() is None else None


class Supervisor:
    """Start children, restart them when they die, keep the embedded Redis up; `poll()` does one round.

    Each child runs in its own process group, so stopping (or a benchmark's SIGKILL of) a Celery worker reaches its
    pool processes too."""

    def __init__(
        self,
        children: Sequence[Child],
        *,
        cwd: Path,
        watch_redis: bool = False,
        output: IO[bytes] | None = None,
        say: Callable[[str], None] | None = None,
        fast_exit_s: float = FAST_EXIT_S,
        max_fast_crashes: int = MAX_FAST_CRASHES,
        backoff_s: float = 1.0,
    ) -> None:
        self.children = list(children)
        self.fast_exit_s, self.max_fast_crashes, self.backoff_s = fast_exit_s, max_fast_crashes, backoff_s
        self.cwd = cwd
        self.watch_redis = watch_redis
        self.output = output
        self.say = say or (lambda message: logger.warning("%s", message))
        self.redis_restarts: list[float] = []

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        for child in self.children:
            self._spawn(child)

    def child(self, name: str) -> Child:
        return next(c for c in self.children if c.name == name)

    def poll(self) -> None:
        """One round: Redis first (the worker and beat need it to start), then every child."""
        now = time.monotonic()
        if self.watch_redis:
            self._keep_redis()
        for child in self.children:
            if child.proc is None:
                if child.restart_at is not None and now >= child.restart_at:
                    self._spawn(child)
                continue
            code = child.proc.poll()
            if code is None:
                if child.fast_crashes and now - child.started_at > self.fast_exit_s:
                    child.fast_crashes = 0  # it stayed up: a later crash starts a new count
                continue
            self._on_exit(child, code, now)

    def run(self, should_stop: Callable[[], bool] = lambda: False) -> None:
        """poll() until `should_stop()` or SupervisorGaveUp."""
        while not should_stop():
            self.poll()
            time.sleep(POLL_S)

    def stop(self) -> None:
        for child in self.children:
            child.restart_at = None
            if child.pid is not None:
                self._signal(child, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        for child in self.children:
            if child.proc is None:
                continue
            try:
                child.proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self._signal(child, signal.SIGKILL)
                child.proc.wait()
            # what the group leader left behind (a prefork pool child, say) goes with it
            self._signal(child, signal.SIGKILL)

    # ------------------------------------------------------------------ internals
    def _spawn(self, child: Child) -> None:
        env = child.env if child.env is not None else dict(os.environ)
        child.proc = subprocess.Popen(
            child.argv,
            cwd=self.cwd,
            env=env,
            start_new_session=True,
            stdout=self.output,
            stderr=self.output,
        )
        child.started_at = time.monotonic()
        child.restart_at = None

    def _on_exit(self, child: Child, code: int, now: float) -> None:
        child.exits.append((time.time(), code))
        self._signal(child, signal.SIGKILL)  # the pool processes of a worker whose main process died
        child.proc = None
        if now - child.started_at < self.fast_exit_s:
            child.fast_crashes += 1
        else:
            child.fast_crashes = 0
        if child.fast_crashes >= self.max_fast_crashes:
            raise SupervisorGaveUp(
                f"{child.name} exited {child.fast_crashes} times in a row within {self.fast_exit_s:.0f} s of "
                f"starting (last exit code {code}); giving up"
            )
        # at once after a crash of a process that had been running; then 1, 2, 4 ... s while it keeps dying young
        delay = 0.0 if child.fast_crashes <= 1 else min(BACKOFF_MAX_S, self.backoff_s * 2.0 ** (child.fast_crashes - 2))
        child.restart_at = now + delay
        child.restarts += 1
        self.say(f"{child.name} exited with code {code}; starting it again in {delay:.0f} s")

    def _keep_redis(self) -> None:
        from config import embedded

        if os.environ.get("REDIS_URL") or embedded.redis_alive():
            return
        self.say("the embedded Redis is not running; starting it again")
        embedded.start_redis()
        self.redis_restarts.append(time.time())

    @staticmethod
    def _signal(child: Child, signum: int) -> None:
        if child.proc is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.proc.pid, signum)
