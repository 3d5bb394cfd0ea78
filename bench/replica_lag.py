"""How far a streaming read replica trails the primary: the time from a commit on the primary to the row being
visible on the replica, the figure DATABASE_REPLICA_PIN_SECONDS (the time a browser that wrote reads the primary)
must stay well above (docs/scaling.md, "Read replicas").

    .venv/bin/python -m config.embedded run -- .venv/bin/python bench/replica_lag.py --writes 50

Starts a replica of the embedded PostgreSQL (config/embedded.py `replica_start`, a directory of its own under var/),
writes one row at a time in a scratch table of the `postgres` database, polls the replica until it sees each, and
stops the replica. The embedded server runs with `synchronous_commit = off` (a dev/test trade-off): its WAL writer
sends a commit within `wal_writer_delay` (200 ms), which is what this measures here; a production primary with
synchronous commits streams each commit as it is flushed (milliseconds on one network).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from config import embedded  # noqa: E402


def _wait(check, timeout_s: float = 30) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit("the replica did not catch up within 30 s")
        time.sleep(0.001)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--writes", type=int, default=50)
    args = parser.parse_args()
    import dj_database_url
    import psycopg

    directory = embedded.VAR_DIR / "pg-replica-bench"
    started = time.perf_counter()
    replica_url = embedded.replica_start(directory)
    print(f"replica started from a base backup in {time.perf_counter() - started:.1f} s")
    try:

        def connect(url: str) -> psycopg.Connection[tuple[object, ...]]:
            cfg = dj_database_url.parse(url)
            return psycopg.connect(host=cfg["HOST"], user=cfg["USER"], dbname="postgres", autocommit=True)

        primary, replica = connect(embedded.database_url()), connect(replica_url)
        primary.execute("DROP TABLE IF EXISTS bench_replica_lag; CREATE TABLE bench_replica_lag (n int)")
        _wait(lambda: replica.execute("SELECT to_regclass('bench_replica_lag')").fetchone()[0])  # type: ignore[index]
        lags = []
        for n in range(args.writes):
            t0 = time.perf_counter()
            primary.execute("INSERT INTO bench_replica_lag VALUES (%s)", (n,))
            _wait(lambda: replica.execute("SELECT 1 FROM bench_replica_lag WHERE n = %s", (n,)).fetchone())  # noqa: B023
            lags.append((time.perf_counter() - t0) * 1000)
            time.sleep(0.02)  # one write at a time, as a shopper's
        primary.execute("DROP TABLE bench_replica_lag")
        lags.sort()
        print(
            f"commit -> visible on the replica, {len(lags)} writes: median {statistics.median(lags):.1f} ms, "
            f"p95 {lags[max(0, round(0.95 * len(lags)) - 1)]:.1f} ms, max {lags[-1]:.1f} ms"
        )
        with open("/proc/loadavg") as fh:
            print(f"load average: {fh.read().split()[:3]}")
    finally:
        embedded.replica_stop(directory)


if __name__ == "__main__":
    main()
