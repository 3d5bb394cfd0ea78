"""Does the distillation path work? Student quality and student-teacher agreement vs number of teacher labels.

    .venv/bin/python bench/distillation.py                        # amazon_scientific, 0 / N / 2N / 4N judgments
    .venv/bin/python bench/distillation.py --weight 1 --steps 0,4

The teacher is SIMULATED (recommender.ml.simulated_teacher): for a user's current history it is told what the user
did next (plus noise) and rates 20 candidates 0-10 by closeness to it; the candidates mix text neighbours of the
history, popular and random products (a serving pipeline's sources), and contain the true next item about half
of the time (--recall). It stands for an LLM teacher that is better than the student.

Setting = serving: the teacher judges users' CURRENT contexts (their test inputs: every event but the last) and the
student is trained on everybody's training sequences plus those judgments (same seed every run; early stopping on
validation targets, which the teacher never sees). Reported:
- test NDCG@10 (full ranking, history excluded) over all users, over the users the teacher judged (the 4N pool),
  and over users it never judged (generalisation: nothing about them was told to anybody);
- agreement between student and teacher over each judgment's candidates — top-1 (the student's best candidate is
  the teacher's best) and mean Kendall tau-b — on the judged pool and on held-out judgments of never-judged users.
The teacher knows the judged users' test targets BY CONSTRUCTION (it is the oracle being distilled): NDCG on the
judged pool shows the path transfers what the teacher knows; the never-judged column is the honest generalisation.
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

from dragonrec.recommender.ml import StudentConfig, train_student
from dragonrec.recommender.ml.data import TeacherLabel
from dragonrec.recommender.ml.metrics import RankingEvalSet
from dragonrec.recommender.ml.simulated_teacher import agreement, simulate_teacher_labels


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", default="amazon_scientific")
    ap.add_argument("--n", type=int, default=1000, help="N: judgments added per step")
    ap.add_argument("--steps", default="0,1,2,4", help="multiples of N to train with")
    ap.add_argument("--noise", type=float, default=1.5, help="teacher noise, std on the 0-10 scale")
    ap.add_argument("--k", type=int, default=20, help="candidates per judgment")
    ap.add_argument("--recall", type=float, default=0.5, help="P(the true next item is among the candidates)")
    ap.add_argument("--weight", type=float, default=None, help="distillation lambda (default: StudentConfig's)")
    ap.add_argument("--tau", type=float, default=None, help="teacher temperature (default: StudentConfig's)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=0, help="0 = 2 on a quiet box, else 1")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s")
    torch.set_num_threads(args.threads or (2 if os.getloadavg()[0] < 1.0 else 1))

    split = common.load_split(args.dataset)
    ds = split.dataset
    vecs = common.text_vectors(ds)
    users = sorted(split.train)
    steps = [int(s) for s in args.steps.split(",")]
    n_max = max(steps) * args.n
    if n_max > len(users) // 2:
        raise SystemExit(f"{len(users)} users: keep max(steps) * n <= half of them")
    perm = np.random.default_rng(args.seed).permutation(len(users))
    judged = [users[i] for i in perm[:n_max]]  # the first N, 2N, ... of them get judgments
    never = [users[i] for i in perm[len(users) // 2 :]]  # never judged in any run
    counts = np.bincount([e.product_id for u in users for e in split.train[u]], minlength=ds.n_items)
    popular = np.argsort(-counts, kind="stable").tolist()

    def judge(pool: list[str], seed: int) -> list[TeacherLabel]:
        return simulate_teacher_labels(
            [split.test_input(u) for u in pool],
            [[split.test_target[u]] for u in pool],
            vecs,
            k=args.k,
            noise=args.noise,
            candidate_recall=args.recall,
            popular=popular,
            seed=seed,
        )

    labels = judge(judged, args.seed)
    held_out = judge(never, args.seed + 1)
    hit = np.mean([split.test_target[u] in lb.candidate_ids for u, lb in zip(judged, labels, strict=True)])
    sets = {
        "all": RankingEvalSet([split.test_input(u) for u in users], [split.test_target[u] for u in users], max_len=50),
        "judged": RankingEvalSet(
            [split.test_input(u) for u in judged], [split.test_target[u] for u in judged], max_len=50
        ),
        "never": RankingEvalSet(
            [split.test_input(u) for u in never], [split.test_target[u] for u in never], max_len=50
        ),
    }
    cfg = StudentConfig()
    if args.weight is not None:
        cfg.distill_weight = args.weight
    if args.tau is not None:
        cfg.distill_temperature = args.tau
    print(
        f"{ds.name}: {len(users)} users, {ds.n_items} items; judged pool {len(judged)}, never-judged {len(never)}; "
        f"teacher noise {args.noise}, {args.k} candidates/judgment (true next item among them in {hit:.0%}); "
        f"lambda {cfg.distill_weight}, tau {cfg.distill_temperature}; threads {torch.get_num_threads()}"
    )
    print()
    print(
        "| judgments | NDCG@10 all | Recall@10 all | NDCG@10 judged | NDCG@10 never-judged | top-1 agree judged "
        "| tau judged | top-1 agree held-out | tau held-out | train s |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for s in steps:
        n = s * args.n
        t0 = time.perf_counter()
        r = train_student(
            sequences=[split.train[u] for u in users],
            n_items=ds.n_items,
            item_text_vectors=vecs,
            config=cfg,
            valid=[(split.train[u], split.valid_target[u]) for u in users],
            teacher_labels=labels[:n],
            seed=args.seed,
        )
        secs = time.perf_counter() - t0
        m = {name: es.metrics(r.model, ks=(10,)) for name, es in sets.items()}
        a_in, a_out = agreement(r.model, labels), agreement(r.model, held_out)
        print(
            f"| {n} | {m['all']['ndcg@10']:.4f} | {m['all']['recall@10']:.4f} | {m['judged']['ndcg@10']:.4f} | "
            f"{m['never']['ndcg@10']:.4f} | {a_in['top1']:.3f} | {a_in['kendall_tau']:.3f} | {a_out['top1']:.3f} | "
            f"{a_out['kendall_tau']:.3f} | {secs:.0f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
