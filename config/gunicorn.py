"""Gunicorn settings for serving DragonRec: `gunicorn -c config/gunicorn.py config.wsgi:application`.

`make demo` uses it; a production deployment can too (every value reads an environment variable). Defaults are
for a 2-core machine: one process per core (each holds the GIL while it ranks) and a few threads each to overlap
the database and Redis round trips. Measured with bench/api_latency.py, 16 clients, at load 7-9: 2x4 145
requests/s, 2x2 92, 4x2 113, 1x8 92 (more processes only contend for the same two cores; docs/operations.md).

Slow clients: gunicorn's own threads (`DRAGONREC_WEB_IO_THREADS`, 32 a process) read requests and buffer their bodies;
only then does one of the `DRAGONREC_WEB_THREADS` application threads run Django on it (config/gunicorn_buffering.py).
A handful of connections trickling a byte a second no longer stall the site; production still puts a buffering
proxy in front (docs/operations.md, "Slow clients").
"""

from __future__ import annotations

import gc
import logging
import os
from typing import Any

bind = os.environ.get("DRAGONREC_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("DRAGONREC_WEB_WORKERS", "2"))
app_threads = int(os.environ.get("DRAGONREC_WEB_THREADS", "4"))  # run Django: config/gunicorn_buffering.py
# gunicorn's threads: read requests (slow clients wait in these), write answers. Many, since a waiting thread costs
# only memory; bounded, since each slow connection beyond them queues the requests behind it again.
threads = max(app_threads, int(os.environ.get("DRAGONREC_WEB_IO_THREADS", "32")))
worker_class = "gthread"
preload_app = True  # Django and the libraries are imported once, before the fork
graceful_timeout = 5
# Recycle a worker after this many requests (0 = never), a bound on slow leaks; the jitter keeps the workers from
# restarting together. bench/faults.py sets it low to recycle workers under traffic.
max_requests = int(os.environ.get("DRAGONREC_WEB_MAX_REQUESTS", "0"))
max_requests_jitter = max_requests // 10
# gunicorn's control socket (one path per user, ~/.gunicorn/gunicorn.ctl) would be shared by every gunicorn of the
# user on the machine, each taking it from the last; nothing of ours uses it, signals do the same.
control_socket_disable = True
accesslog = "-" if os.environ.get("DRAGONREC_ACCESS_LOG") else None
# One torch/BLAS thread per web thread: a request's forward pass is tiny, and several threads per request on two
# cores spin against each other (measured: 31 ms -> 8 ms per request).
raw_env = [f"{name}=1" for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")]


def post_worker_init(worker: Any) -> None:
    """Run the application on its own few threads behind the buffering of requests, then load the models and the
    catalog snapshot before this worker accepts its first request: done lazily, the first requests of every worker
    waited seconds for them (measured: p95 2.1 s over the first minute)."""
    from config.gunicorn_buffering import BufferedApp

    worker.wsgi = BufferedApp(worker.wsgi, app_threads)
    try:
        from dragonrec.recommender.services.recommendations import serving_warmup

        serving_warmup()
    except Exception:  # a cold worker still serves; it just pays the loading on its first requests
        logging.getLogger(__name__).exception("serving warm-up failed")
    # What is loaded by now (Django, the models, the catalog snapshot: a few hundred thousand objects) lives as long
    # as the worker: out of the collector's sight, so a full collection no longer walks it in the middle of a
    # request (measured: one pause of 242 ms in a 1.7 s ingest run).
    gc.collect()
    gc.freeze()
