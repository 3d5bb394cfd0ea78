"""config/gunicorn.py for bench/load.py's stacks, plus one thing: each worker, once its warm-up is done (models and
catalog snapshot loaded, config.gunicorn.post_worker_init), writes `warm.<pid>` into DRAGONREC_LOAD_WARM_DIR, so
the driver measures from the moment every worker of a stack serves warm (a 1M-product worker takes tens of
seconds, and while one is still loading the other takes every request)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from config import gunicorn as production
from config.gunicorn import *  # noqa: F403 - the production settings, unchanged


def post_worker_init(worker: Any) -> None:  # type: ignore[no-redef]  # production's, then the file
    production.post_worker_init(worker)
    directory = os.environ.get("DRAGONREC_LOAD_WARM_DIR")
    if directory:
        (Path(directory) / f"warm.{os.getpid()}").touch()
