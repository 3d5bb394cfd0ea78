#!/usr/bin/env python
"""One load test against two stacks at once (issues #24 and #25): the same shopper mix, at the same rate, played
against each, interleaved, so the catalog size is the only difference between them.

    # the databases: a 1k-product and a 1M-product shop from the generator (docs/scaling.md)
    .venv/bin/python bench/load.py --start \
        --stack "1k=127.0.0.1:8413,postgres://postgres@%2Fpath%2Fvar%2Fpg/dragonrec_1k,6413" \
        --stack "1M=127.0.0.1:8414,postgres://postgres@%2Fpath%2Fvar%2Fpg/dragonrec_scale,16413" \
        --rate 10 --users 20 --duration 180 --warmup 30

A stack is `NAME=BIND[,DATABASE_URL,REDIS_PORT]`. With --start, each is started here as `make demo` runs it
(gunicorn with config/gunicorn.py, a Celery worker on every queue, Celery beat) on its own database and its own
Redis server (started on REDIS_PORT, or the next free port, with its data under var/load/NAME), with the throttles
lifted, and everything started is stopped at the end. Without --start, BIND names an already running stack.

The driver is locust (bench/locustfile.py's ShopperMix, as a library): each simulated shopper holds one shopper
per stack (its own cookies, cart and seen products on each catalog) and plays every task on both, in a random
order, so both stacks get the same mix at the same moments. --rate is tasks per second per stack (about one
recommendation list a task). Prints per endpoint and stack the request count, p50/p95/p99 (ms) and throughput, the
load average, and the ratio of the recommendations' p95 (every scenario together) between the last stack and the
first: the issues' bar is p95(1M) <= 1.5 x p95(1k). With --start, the load begins once every stack is warm (each
gunicorn worker's warm-up done, the search vocabulary counted, no scheduled job running: wait_warm), and the
scheduled jobs that started inside the measured window are listed; requests in the first --warmup seconds are not
counted either. Any failed request (an error status, a refused connection, a timeout) makes the run exit 1: its
figures do not stand.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gevent  # type: ignore[import-untyped]
import numpy as np
from locust import User, constant_throughput, task
from locust.clients import HttpSession
from locust.env import Environment

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from locustfile import WEIGHTS, ShopperMix  # noqa: E402

# every throttle scope a shopper's requests pass through, lifted (empty = no limit): a load test measures serving
UNTHROTTLED = ",".join(
    f"{scope}.{who}=" for scope in ("recommendations", "events", "event_requests") for who in ("shopper", "address")
)


@dataclass
class Stack:
    name: str
    bind: str
    database_url: str = ""
    redis_port: int = 0
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    redis_state: dict[str, Any] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://{self.bind}"

    @classmethod
    def parse(cls, spec: str) -> Stack:
        name, _, rest = spec.partition("=")
        parts = rest.split(",")
        if not name or not parts[0]:
            raise SystemExit(f"--stack {spec!r}: expected NAME=BIND[,DATABASE_URL,REDIS_PORT]")
        database_url = parts[1] if len(parts) > 1 else ""
        return cls(name, parts[0], database_url, int(parts[2]) if len(parts) > 2 else 0)


def start_stack(stack: Stack, log_dir: Path) -> None:
    from config import queues
    from config.embedded_redis import redis_start

    if not stack.database_url:
        raise SystemExit(f"--start needs a DATABASE_URL for stack {stack.name}")
    env = {**os.environ, "DRAGONREC_REDIS_PORT": str(stack.redis_port or 6390)}
    # redis_start reads the port from this process's environment (it took the shell's DRAGONREC_REDIS_PORT + 1,
    # another engineer's port, instead of the stack's)
    shell_port = os.environ.get("DRAGONREC_REDIS_PORT")
    os.environ["DRAGONREC_REDIS_PORT"] = env["DRAGONREC_REDIS_PORT"]
    try:
        redis_url = redis_start(stack.redis_state, directory=log_dir / stack.name / "redis")
    finally:
        if shell_port is None:
            os.environ.pop("DRAGONREC_REDIS_PORT", None)
        else:
            os.environ["DRAGONREC_REDIS_PORT"] = shell_port
    env.update(
        DATABASE_URL=stack.database_url,
        REDIS_URL=redis_url,
        DRAGONREC_BIND=stack.bind,
        DRAGONREC_THROTTLE_RATES=UNTHROTTLED,
        DJANGO_SETTINGS_MODULE=os.environ.get("DJANGO_SETTINGS_MODULE", "config.settings.dev"),
    )
    py = sys.executable
    subprocess.run([py, "manage.py", "migrate", "--no-input", "-v", "0"], cwd=REPO, env=env, check=True)
    worker = [py, "-m", "celery", "-A", "config", "worker", "-Q", queues.ALL, "-c", "2", "-l", "warning"]
    beat = [py, "-m", "celery", "-A", "config", "beat", "-l", "warning", "-s", str(log_dir / stack.name / "beat")]
    # a 1M-product worker builds its catalog snapshot before it serves (tens of seconds on a busy machine):
    # gunicorn's default 30 s would kill it during that warm-up
    # and keep-alive past the shoppers' pauses (2 s by default: the server closed idle connections as the client
    # reused them, a failure that measures the bench, not the stack; a proxy in front keeps its upstreams open)
    # config/gunicorn.py plus a file per worker once it is warm (bench/load_gunicorn.py; wait_warm reads them)
    warm_dir = log_dir / stack.name / "warm"
    warm_dir.mkdir(parents=True, exist_ok=True)
    for old in warm_dir.glob("warm.*"):
        old.unlink()
    env["DRAGONREC_LOAD_WARM_DIR"] = str(warm_dir)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH", "")]))
    web = [py, "-m", "gunicorn", "-c", "python:bench.load_gunicorn", "--timeout", "300", "--keep-alive", "75"]
    web.append("config.wsgi")
    commands = {"worker": [*worker, "--without-gossip", "--without-mingle"], "beat": beat, "web": web}
    for kind, command in commands.items():
        log = open(log_dir / stack.name / f"{kind}.log", "wb")  # noqa: SIM115 - open for the process's life
        stack.processes.append(subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=log))


def stop_stack(stack: Stack) -> None:
    from config.embedded_redis import redis_stop

    for process in stack.processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in stack.processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
    redis_stop(stack.redis_state)


def wait_ready(stack: Stack, timeout_s: float) -> None:
    """Until the stack answers a recommendation list (both gunicorn workers warm up before they accept)."""
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with urllib.request.urlopen(f"{stack.url}/api/recommendations/?scenario=home", timeout=30) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"stack {stack.name} did not answer within {timeout_s:.0f} s")
        for process in stack.processes:
            if process.poll() is not None:
                raise SystemExit(f"stack {stack.name}: {process.args!r} exited ({process.returncode})")
        time.sleep(2)


def wait_warm(stack: Stack, log_dir: Path, timeout_s: float) -> None:
    """Until the stack is in its steady state, so that the measured window does not count start-up work: every
    gunicorn worker done with its warm-up (models and catalog snapshot loaded: a file each, bench/load_gunicorn.py),
    the search's typo vocabulary counted (one search: it is shared by every process of the stack), and no
    scheduled job running (JobRun: started after its last outcome; beat runs what is due at its start)."""
    import urllib.request

    import psycopg

    from config.gunicorn import workers

    started = time.monotonic()
    deadline = started + timeout_s
    warm_dir = log_dir / stack.name / "warm"
    while len(list(warm_dir.glob("warm.*"))) < workers:
        if time.monotonic() > deadline:
            raise SystemExit(f"stack {stack.name}: {workers} gunicorn workers not warm within {timeout_s:.0f} s")
        time.sleep(1)
    warm_s = time.monotonic() - started
    with urllib.request.urlopen(f"{stack.url}/api/search/?q=shoes", timeout=timeout_s) as response:
        assert response.status == 200, response.status
    searched_s = time.monotonic() - started
    running: list[str] = []
    quiet = 0
    while quiet < 2:  # twice in a row, a few seconds apart: beat's first jobs may be on their way to the worker
        with psycopg.connect(stack.database_url, autocommit=True) as db:
            running = [
                task
                for (task,) in db.execute(
                    "SELECT task FROM dragonrec_recommender_jobrun WHERE last_started_at > "
                    "greatest(coalesce(last_success_at, '-infinity'), coalesce(last_failure_at, '-infinity'))"
                )
            ]
        quiet = 0 if running else quiet + 1
        if time.monotonic() > deadline:
            raise SystemExit(f"stack {stack.name}: jobs still running after {timeout_s:.0f} s: {running}")
        time.sleep(3)
    waited = time.monotonic() - started
    print(f"{stack.name}: warm ({workers} gunicorn workers warm after {warm_s:.0f} s, typo vocabulary after "
          f"{searched_s:.0f} s, no scheduled job running after {waited:.0f} s)", flush=True)  # fmt: skip


def jobs_started(stack: Stack, since: float) -> list[str]:
    """The scheduled jobs that started after `since` (a Unix time): work of the stack's own inside the window."""
    import psycopg

    with psycopg.connect(stack.database_url, autocommit=True) as db:
        rows = db.execute(
            "SELECT task, runs FROM dragonrec_recommender_jobrun WHERE last_started_at >= to_timestamp(%s) "
            "ORDER BY task",
            [since],
        ).fetchall()
    return [f"{task.rsplit('.', 1)[-1]} (last of {runs} runs)" for task, runs in rows]


def endpoint(name: str) -> tuple[str, str]:
    """(stack, endpoint) from a request name `<stack> <endpoint>`."""
    stack, _, rest = name.partition(" ")
    return stack, rest


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stack", action="append", required=True, help="NAME=BIND[,DATABASE_URL,REDIS_PORT]")
    parser.add_argument("--start", action="store_true", help="start (and at the end stop) each stack here")
    parser.add_argument("--rate", type=float, default=10.0, help="shopper tasks per second, per stack")
    parser.add_argument("--users", type=int, default=20, help="simulated shoppers (each plays on every stack)")
    parser.add_argument("--duration", type=float, default=180.0, help="seconds of load, warm-up included")
    parser.add_argument("--warmup", type=float, default=30.0, help="first seconds not counted")
    parser.add_argument("--ready-timeout", type=float, default=900.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    stacks = [Stack.parse(spec) for spec in args.stack]
    random.seed(args.seed)
    log_dir = REPO / "var" / "load"
    try:
        if args.start:
            for stack in stacks:
                (log_dir / stack.name).mkdir(parents=True, exist_ok=True)
                start_stack(stack, log_dir)
        for stack in stacks:
            started = time.monotonic()
            wait_ready(stack, args.ready_timeout)
            print(f"{stack.name}: ready after {time.monotonic() - started:.0f} s", flush=True)
        if args.start:
            for stack in stacks:
                wait_warm(stack, log_dir, args.ready_timeout)
        return run_load(stacks, args)
    finally:
        if args.start:
            for stack in stacks:
                stop_stack(stack)


def run_load(stacks: list[Stack], args: argparse.Namespace) -> int:
    times: dict[tuple[str, str], list[float]] = defaultdict(list)
    failures: list[str] = []
    counting_from = time.monotonic() + args.warmup

    def on_request(name: str, response_time: float, exception: BaseException | None, **_: Any) -> None:
        if isinstance(exception, gevent.GreenletExit):
            return  # a request the driver itself cut short when the time was up
        if exception is not None:
            failures.append(f"{name}: {exception!r}"[:300])  # counted in the warm-up too: a failure is a failure
        elif time.monotonic() >= counting_from:
            times[endpoint(name)].append(response_time)

    class PairedShopper(User):
        """One shopper per stack, playing each task on every stack (in a random order)."""

        wait_time = constant_throughput(args.rate / args.users)

        def on_start(self) -> None:
            self.mixes = [
                ShopperMix(HttpSession(s.url, self.environment.events.request, self), prefix=f"{s.name} ")
                for s in stacks
            ]
            for mix in self.mixes:
                mix.start()

        def _play(self, name: str) -> None:
            for mix in random.sample(self.mixes, len(self.mixes)):
                getattr(mix, name)()

        @task(WEIGHTS["home"])
        def home(self) -> None:
            self._play("home")

        @task(WEIGHTS["browse_category"])
        def browse_category(self) -> None:
            self._play("browse_category")

        @task(WEIGHTS["open_recommended"])
        def open_recommended(self) -> None:
            self._play("open_recommended")

        @task(WEIGHTS["search"])
        def search(self) -> None:
            self._play("search")

        @task(WEIGHTS["add_to_cart"])
        def add_to_cart(self) -> None:
            self._play("add_to_cart")

        @task(WEIGHTS["buy"])
        def buy(self) -> None:
            self._play("buy")

        def on_stop(self) -> None:
            for mix in self.mixes:
                mix.flush()

    env = Environment(user_classes=[PairedShopper])
    env.events.request.add_listener(on_request)  # type: ignore[no-untyped-call]
    runner = env.create_local_runner()
    load_before = Path("/proc/loadavg").read_text().split()[:3]
    samples: list[float] = []

    def sample_load() -> None:
        while True:
            samples.append(float(Path("/proc/loadavg").read_text().split()[0]))
            gevent.sleep(10)

    sampler = gevent.spawn(sample_load)
    window_start = time.time() + args.warmup
    runner.start(args.users, spawn_rate=max(1.0, args.users / 5))
    gevent.spawn_later(args.duration, runner.quit)
    runner.greenlet.join()
    sampler.kill()
    measured_s = max(1e-9, args.duration - args.warmup)
    load_after = Path("/proc/loadavg").read_text().split()[:3]

    print(f"\n{len(stacks)} stacks, {args.users} shoppers, {args.rate:g} tasks/s per stack, {args.duration:.0f} s "
          f"({args.warmup:.0f} s warm-up not counted)")  # fmt: skip
    print(f"{'stack':<6} {'endpoint':<44} {'n':>6} {'p50':>7} {'p95':>7} {'p99':>7} {'req/s':>7}")
    recs: dict[str, list[float]] = defaultdict(list)
    for (stack_name, name), values in sorted(times.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        p50, p95, p99 = np.percentile(values, [50, 95, 99])
        print(f"{stack_name:<6} {name:<44} {len(values):>6} {p50:>7.1f} {p95:>7.1f} {p99:>7.1f} "
              f"{len(values) / measured_s:>7.1f}")  # fmt: skip
        if name.startswith("/api/recommendations/"):
            recs[stack_name] += values
    print()
    for stack in stacks:
        every = [v for (s, _), values in times.items() if s == stack.name for v in values]
        rec = recs.get(stack.name, [])
        if rec:
            p50, p95, p99 = np.percentile(rec, [50, 95, 99])
            print(f"{stack.name:<6} recommendations (all scenarios): n {len(rec)}, p50 {p50:.1f} / p95 {p95:.1f} / "
                  f"p99 {p99:.1f} ms, {len(rec) / measured_s:.1f} lists/s; all requests {len(every) / measured_s:.1f}"
                  "/s")  # fmt: skip
    if len(stacks) >= 2 and recs.get(stacks[0].name) and recs.get(stacks[-1].name):
        ratio = float(np.percentile(recs[stacks[-1].name], 95) / np.percentile(recs[stacks[0].name], 95))
        print(f"recommendations p95 {stacks[-1].name} / {stacks[0].name}: {ratio:.2f}x (bar: at most 1.5x)")
    if args.start:  # what each stack ran besides the requests, inside the measured window
        for stack in stacks:
            print(f"{stack.name}: scheduled jobs started in the measured window: "
                  f"{', '.join(jobs_started(stack, window_start)) or 'none'}")  # fmt: skip
    print(f"load average: before {' '.join(load_before)}, after {' '.join(load_after)}, "
          f"1-min samples during the run {min(samples, default=0):.1f}-{max(samples, default=0):.1f}")  # fmt: skip
    if failures:
        print(f"\nFAILED: {len(failures)} requests failed; the figures above do not stand. First ones:")
        for line in failures[:10]:
            print(f"  {line}")
        return 1
    print("failures: 0")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
