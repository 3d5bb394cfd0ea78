"""The closed-loop simulator from the command line (same as `manage.py recommender_simulate`), no Django needed.

    python bench/closed_loop.py --dataset ../shared/data/amazon_beauty --rounds 10 \\
        --policies frozen,online,online-explore --out var/sim/beauty

Prints results.md (click rate per round and policy with 95% intervals, rounds 6-10 vs frozen, the off-policy
check) and writes results.json and results.png next to it. Deterministic for a seed.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from dragonrec.recommender.evaluation import simulator  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    simulator.add_arguments(parser)
    options = vars(parser.parse_args())
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    results = simulator.run_from_options(options)
    print(simulator.markdown(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
