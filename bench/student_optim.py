"""What the id table's sparse Adam costs per step at catalogue scale: torch's lazy SparseAdam against
ml.optim.SparseReplayAdam (the default: replays dense Adam's momentum updates for the steps a row skipped), and
dense Adam for reference (what `sparse_ids=false` does), on the same sparse gradients.

    .venv/bin/python bench/student_optim.py                       # 1M x 128 table, 100 steps
    .venv/bin/python bench/student_optim.py --items 100000 --steps 200

Each step's rows are what a sampled-softmax step of the student reads: 256 sequences x 50 input steps drawn from a
Zipf-popular catalogue, their ~1,500 targets, 2,048 uniform negatives. Times are this thread's CPU time (steady on a
shared machine), per step: SparseReplayAdam's is its catch-up before the forward plus its step; flush() (once per
validation) is timed on its own. One torch thread.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable

import _student_common  # noqa: F401  (puts the repository root on sys.path)
import numpy as np
import torch

from dragonrec.recommender.ml.optim import SparseReplayAdam


def _rows(rng: np.random.Generator, n_items: int, *, inputs: int, targets: int, negatives: int) -> torch.Tensor:
    # Zipf-like popularity: item rank r drawn with P ~ 1 / r (inverse-CDF of a log-uniform rank)
    popular = np.minimum((np.exp(rng.uniform(0, np.log(n_items), size=inputs + targets))).astype(np.int64), n_items)
    uniform = rng.integers(1, n_items + 1, size=negatives)
    return torch.from_numpy(np.unique(np.concatenate([popular, uniform])))


def _timed(
    name: str, opt: torch.optim.Optimizer, table: torch.nn.Parameter, steps: list[torch.Tensor], dense: bool
) -> None:
    d = table.shape[1]
    cpu = []
    for rows in steps:
        values = torch.randn(len(rows), d) * 1e-3
        t0 = time.thread_time()
        if isinstance(opt, SparseReplayAdam):
            opt.catch_up(rows)
        if dense:
            grad = torch.zeros_like(table)
            grad[rows] = values
            table.grad = grad
        else:
            table.grad = torch.sparse_coo_tensor(rows[None, :], values, table.shape, check_invariants=False)
        opt.step()
        cpu.append(time.thread_time() - t0)
        table.grad = None
    ms = np.array(cpu[3:]) * 1e3  # the first steps allocate the moment tables
    line = f"| {name} | {np.median(ms):.1f} | {np.percentile(ms, 95):.1f} |"
    if isinstance(opt, SparseReplayAdam):
        t0 = time.thread_time()
        opt.flush()
        line += f" {(time.thread_time() - t0) * 1e3:.0f} |"
    else:
        line += " - |"
    print(line, flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--items", type=int, default=1_000_000)
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--negatives", type=int, default=2048)
    ap.add_argument("--no-dense", action="store_true", help="skip dense Adam (it rewrites the whole table per step)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    steps = [_rows(rng, args.items, inputs=256 * 50, targets=1500, negatives=args.negatives) for _ in range(args.steps)]
    print(
        f"# {args.items:,} x {args.hidden} id table, {args.steps} steps, ~{int(np.mean([len(s) for s in steps])):,} "
        f"distinct rows a step; load average {tuple(round(x, 2) for x in os.getloadavg())}"
    )
    print("| optimizer | CPU ms / step, median | p95 | flush ms |")
    print("|---|---:|---:|---:|")
    kinds: list[tuple[str, Callable[..., torch.optim.Optimizer], bool]] = [
        ("SparseAdam (lazy)", torch.optim.SparseAdam, False),
        ("SparseReplayAdam (catch-up + step)", SparseReplayAdam, False),
    ]
    if not args.no_dense:
        kinds.append(("Adam, dense gradients", torch.optim.Adam, True))
    for name, cls, dense in kinds:
        table = torch.nn.Parameter(torch.randn(args.items + 1, args.hidden) * 0.02)
        opt = cls([table], lr=1e-3, betas=(0.9, 0.98))
        _timed(name, opt, table, steps, dense)
        del opt, table
    print(f"# load average after {tuple(round(x, 2) for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
