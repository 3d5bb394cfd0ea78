"""Student speed on CPU: serving latency of one ranking request, and training throughput.

    .venv/bin/python bench/student_speed.py                      # Beauty-sized model, random weights
    .venv/bin/python bench/student_speed.py --model var/models/student-beauty --train-epochs 3

Serving: one request = map the history's product ids, encode the last <= 50 steps, score 200 candidates; measured
with torch.inference_mode and ONE intra-op thread (the serving setting: web workers run requests in parallel, and
for a 64-wide, 2-layer model threads only add synchronisation). Training: seconds per epoch on amazon_beauty (the
full wall time is what bench/student_beauty.py reports). Prints the load average: the box is shared.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # idle OpenMP threads sleep instead of spinning (shared box)

import argparse
import logging
import time

import _student_common as common
import numpy as np
import torch

from dragonrec.recommender.core.types import Context, HistoryEvent
from dragonrec.recommender.ml import Student, StudentConfig, StudentModel, StudentRanker, train_student
from dragonrec.recommender.ml.data import EVENT_VOCAB


def _beauty_sized_student(n_items: int = 12101) -> Student:
    rng = np.random.default_rng(0)
    vecs = rng.normal(size=(n_items, 384)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    torch.manual_seed(0)
    model = StudentModel(StudentConfig(), n_items=n_items, text_vectors=vecs, n_event_types=len(EVENT_VOCAB))
    return Student(model, [10_000 + i for i in range(n_items)], version="random")


def latency(student: Student, *, history_len: int, n_candidates: int, n_requests: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    ranker = StudentRanker(student)
    pids = np.asarray(student.product_ids)
    events = ["view", "view", "click", "add_to_cart", "purchase"]
    times = []
    for r in range(n_requests + 50):
        hist = [
            HistoryEvent(int(p), events[int(rng.integers(len(events)))], float(i))
            for i, p in enumerate(rng.choice(pids, size=history_len))
        ]
        cands = [int(c) for c in rng.choice(pids, size=n_candidates, replace=False)]
        ctx = Context(history=hist)
        t0 = time.perf_counter()
        with torch.inference_mode():
            s = ranker.score(ctx, cands)
        dt = time.perf_counter() - t0
        assert s.shape == (n_candidates,)
        if r >= 50:  # warm-up requests excluded
            times.append(dt * 1000)
    return np.asarray(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", help="a saved Student directory (default: Beauty-sized model with random weights)")
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--candidates", type=int, default=200)
    ap.add_argument("--serving-threads", type=int, default=1)
    ap.add_argument("--train-epochs", type=int, default=3, help="epochs of Beauty training to time (0 = skip)")
    ap.add_argument("--train-threads", type=int, default=2)
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)

    print(f"load average at start: {os.getloadavg()}")
    student = Student.load(args.model) if args.model else _beauty_sized_student()
    torch.set_num_threads(args.serving_threads)
    print(
        f"model: {student.n_items} items, {sum(p.numel() for p in student.model.parameters()):,} params, "
        f"torch threads {torch.get_num_threads()}"
    )
    print(f"{'history':>8} {'cands':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'mean ms':>8}")
    for hl in (5, 20, 50):
        t = latency(student, history_len=hl, n_candidates=args.candidates, n_requests=args.requests)
        p50, p95, p99 = np.percentile(t, [50, 95, 99])
        print(f"{hl:>8} {args.candidates:>6} {p50:>8.2f} {p95:>8.2f} {p99:>8.2f} {t.mean():>8.2f}")

    if args.train_epochs:
        split = common.load_split("amazon_beauty")
        ds = split.dataset
        vecs = common.text_vectors(ds)
        users = sorted(split.train)
        cfg = StudentConfig(max_epochs=args.train_epochs, num_threads=args.train_threads)
        la = os.getloadavg()
        r = train_student(
            sequences=[split.train[u] for u in users], n_items=ds.n_items, item_text_vectors=vecs, config=cfg, seed=0
        )
        ends = [e.seconds for e in r.history]
        per = np.diff([0.0, *ends])
        print(
            f"training: {args.train_epochs} epochs on amazon_beauty, {args.train_threads} threads: "
            f"{r.train_seconds:.1f}s ({np.mean(per):.1f}s/epoch, no validation); load average before {la}, "
            f"after {os.getloadavg()}"
        )


if __name__ == "__main__":
    main()
