"""The gunicorn settings `make demo` (and a deployment) uses load and mean what they say."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_gunicorn_config_is_valid_and_reads_its_environment() -> None:
    env = {"DRAGONREC_WEB_WORKERS": "3", "DRAGONREC_WEB_THREADS": "2", "PATH": "/usr/bin:/bin"}
    code = (
        "from gunicorn.config import Config; c = Config(); "
        "exec(open('config/gunicorn.py').read(), ns := {}); "
        "[c.set(k, v) for k, v in ns.items() if k in c.settings]; "
        "print(c.workers, c.threads, c.worker_class_str, c.preload_app, callable(c.post_worker_init))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["3", "2", "gthread", "True", "True"]
