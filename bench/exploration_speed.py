"""What exploration adds per served list: the draw and its exact propensities (core.exploration.explore_page) on a
ranked page, at the serving defaults, timed over many requests.

    python bench/exploration_speed.py --lists 5000 --runs 3
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from dragonrec.recommender.core.exploration import (  # noqa: E402
    ExplorationConfig,
    explore_page,
    pool_size,
    seed_from_request,
)
from dragonrec.recommender.core.types import ScoredItem  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--lists", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--n", type=int, default=10)
    args = parser.parse_args()
    config = ExplorationConfig(deterministic_slots=3, pool=10, temperature=0.05)  # the home default
    rng = np.random.default_rng(0)
    length = args.n + pool_size(config, args.n)
    print(f"page of {args.n} drawn from a ranked page of {length}; load average {os.getloadavg()[0]:.2f}")
    for run in range(1, args.runs + 1):
        times = []
        for _ in range(args.lists):
            scores = np.sort(rng.random(length))[::-1]
            page = [ScoredItem(product_id=i, score=float(s), source="student") for i, s in enumerate(scores)]
            started = time.perf_counter()
            explore_page(page, n=args.n, config=config, seed=seed_from_request(uuid.uuid4()))
            times.append(time.perf_counter() - started)
        ms = np.array(times) * 1000
        print(f"run {run}: p50 {np.percentile(ms, 50):.3f} ms, p95 {np.percentile(ms, 95):.3f} ms, "
              f"p99 {np.percentile(ms, 99):.3f} ms over {args.lists} lists")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
