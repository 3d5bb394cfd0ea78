"""Does the distillation path work? Student quality and student-teacher agreement vs number of teacher labels.

    .venv/bin/python bench/distillation.py                          # amazon_scientific, 0 / N / 2N / 4N labels
    .venv/bin/python bench/distillation.py --dataset amazon_beauty --n 2000 --steps 0,1,2

The teacher is SIMULATED (recommender.ml.simulated_teacher): it is told each labelled user's held-out next item
(the validation target) and rates 20 text-retrieved candidates 0-10 by closeness to it, plus noise. Protocol:
- users are split at random into a LABEL pool (teacher labels are drawn from it: N, 2N, ... users) and an
  EARLY-STOPPING pool (their validation targets select the epoch; never labelled, so selection is not flattered);
- the student trains on every user's training history (as always) plus the labels, same seed for every run;
- reported: test NDCG@10 / Recall@10 (full ranking, history excluded) over all users — the teacher never saw a
  test target — and agreement with the teacher on held-out judgments: the teacher rates candidates for the
  early-stopping pool's TEST inputs (knowing their test targets), and we measure top-1 agreement (the student's
  best candidate is the teacher's best) and mean Kendall tau-b between the two orders.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse
import logging
import time

import _student_common as common
import numpy as np
import torch

from recommender.ml import StudentConfig, train_student
from recommender.ml.metrics import RankingEvalSet
from recommender.ml.simulated_teacher import agreement, simulate_teacher_labels


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", default="amazon_scientific")
    ap.add_argument("--n", type=int, default=1000, help="N: labels added per step")
    ap.add_argument("--steps", default="0,1,2,4", help="multiples of N to train with")
    ap.add_argument("--noise", type=float, default=1.5, help="teacher noise, std on the 0-10 scale")
    ap.add_argument("--k", type=int, default=20, help="candidates per judgment")
    ap.add_argument("--weight", type=float, default=None, help="distillation lambda (default: StudentConfig's)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=0, help="0 = 2 on a quiet box, else 1")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s")
    torch.set_num_threads(args.threads or (2 if os.getloadavg()[0] < 1.0 else 1))

    split = common.load_split(args.dataset)
    ds = split.dataset
    vecs = common.text_vectors(ds)
    users = sorted(split.train)
    rng = np.random.default_rng(args.seed)
    perm = rng.permutation(len(users))
    label_pool = [users[i] for i in perm[: len(users) // 2]]
    stop_pool = [users[i] for i in perm[len(users) // 2 :]]
    steps = [int(s) for s in args.steps.split(",")]
    if max(steps) * args.n > len(label_pool):
        raise SystemExit(f"label pool has {len(label_pool)} users: lower --n or --steps")

    # Teacher judgments for training: labelled users' training history, knowing their validation target.
    all_labels = simulate_teacher_labels(
        [split.train[u] for u in label_pool[: max(steps) * args.n]],
        [[split.valid_target[u]] for u in label_pool[: max(steps) * args.n]],
        vecs,
        k=args.k,
        noise=args.noise,
        seed=args.seed,
    )
    hit = np.mean([split.valid_target[u] in lb.candidate_ids for u, lb in zip(label_pool, all_labels, strict=False)])
    # Held-out judgments for agreement: the other pool's test inputs, knowing their test targets.
    eval_labels = simulate_teacher_labels(
        [split.test_input(u) for u in stop_pool],
        [[split.test_target[u]] for u in stop_pool],
        vecs,
        k=args.k,
        noise=args.noise,
        seed=args.seed + 1,
    )
    test_set = RankingEvalSet([split.test_input(u) for u in users], [split.test_target[u] for u in users], max_len=50)
    cfg = StudentConfig()
    if args.weight is not None:
        cfg.distill_weight = args.weight
    print(
        f"{ds.name}: {len(users)} users, {ds.n_items} items; label pool {len(label_pool)}, early-stopping pool "
        f"{len(stop_pool)}; teacher noise {args.noise}, {args.k} candidates/judgment (held-out item retrieved in "
        f"{hit:.0%} of them); lambda {cfg.distill_weight}, tau {cfg.distill_temperature}"
    )
    print()
    print("| teacher labels | test NDCG@10 | test Recall@10 | top-1 agreement | Kendall tau | best epoch | train s |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for s in steps:
        n = s * args.n
        t0 = time.perf_counter()
        r = train_student(
            sequences=[split.train[u] for u in users],
            n_items=ds.n_items,
            item_text_vectors=vecs,
            config=cfg,
            valid=[(split.train[u], split.valid_target[u]) for u in stop_pool],
            teacher_labels=all_labels[:n],
            seed=args.seed,
        )
        m = test_set.metrics(r.model, ks=(10,))
        a = agreement(r.model, eval_labels)
        print(
            f"| {n} | {m['ndcg@10']:.4f} | {m['recall@10']:.4f} | {a['top1']:.3f} | {a['kendall_tau']:.3f} | "
            f"{r.best_epoch} | {time.perf_counter() - t0:.0f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
