"""A SIMULATED teacher, for experiments and tests only — never for serving.

It stands in for the LLM teacher when proving the distillation path: it is TOLD each user's held-out next item(s)
and rates retrieved candidates 0-10 by how close each is (in text-embedding space) to what the user really did
next, plus Gaussian noise. A real teacher has no such oracle; it has world knowledge about products instead. The
point is only to check that `TeacherLabel`s move the student toward the teacher and that this can raise NDCG.

    >>> teacher = SimulatedTeacher(item_vectors, noise=1.5, seed=0)
    >>> cands = retrieve_candidates(history, item_vectors, k=20)
    >>> label = teacher.judge(history, cands, future_ids=[next_item])
    >>> agreement(student_model, [label, ...])      # {"top1": ..., "kendall_tau": ...}
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from dragonrec.recommender.core.types import HistoryEvent
from dragonrec.recommender.ml.data import TeacherLabel, as_steps, encode_histories
from dragonrec.recommender.ml.model import StudentModel


def retrieve_candidates(
    history: Sequence[HistoryEvent],
    item_vectors: np.ndarray,
    *,
    k: int = 20,
    recent: int = 5,
    popular: Sequence[int] | None = None,
    rng: np.random.Generator | None = None,
) -> list[int]:
    """A stand-in for the serving candidate pipeline. Without `popular`: the k products whose text vectors are
    closest to the mean of the last `recent` history products (an embedding ANN source). With `popular` (ids, most
    popular first) and `rng`: half of the k from that text source, a quarter sampled from the 100 most popular
    (a trending source), a quarter uniformly from the catalogue (exploration). History products are never returned.
    Ids are rows of item_vectors (dense ids)."""
    ids = [e.product_id for e in history]
    if not ids:
        return []
    q = item_vectors[ids[-recent:]].mean(0)
    sims = item_vectors @ q
    sims[ids] = -np.inf
    n_text = k if popular is None or rng is None else k - 2 * (k // 4)
    top = np.argpartition(-sims, min(n_text, len(sims) - 1))[:n_text]
    out = [int(i) for i in top[np.argsort(-sims[top], kind="stable")]]
    if popular is not None and rng is not None:
        taken = set(out) | set(ids)
        pool = [int(p) for p in popular[:100] if p not in taken]
        out += [int(p) for p in rng.choice(pool, size=min(k // 4, len(pool)), replace=False)]
        taken |= set(out)
        while len(out) < k and len(taken) < len(item_vectors):
            c = int(rng.integers(len(item_vectors)))
            if c not in taken:
                out.append(c)
                taken.add(c)
    return out


class SimulatedTeacher:
    """Oracle-plus-noise judge. relevance(c) = 1 if c is a held-out next item, else the text similarity of c to the
    closest held-out item rescaled from [sim_floor, 1] to [0, 1]; score = 10 * relevance + N(0, noise), clipped to
    [0, 10]. Confidence = the best candidate's relevance, clipped to [min_confidence, 1]: like an LLM, the teacher is
    sure when one candidate clearly fits and unsure when none does."""

    def __init__(
        self,
        item_vectors: np.ndarray,
        *,
        noise: float = 1.5,
        sim_floor: float = 0.3,  # MiniLM cosine of unrelated products is ~0.0-0.3: below this counts as 0/10
        min_confidence: float = 0.2,
        seed: int = 0,
    ) -> None:
        self.v = np.asarray(item_vectors, dtype=np.float32)
        self.noise = noise
        self.sim_floor = sim_floor
        self.min_confidence = min_confidence
        self.rng = np.random.default_rng(seed)

    def judge(
        self, history: Sequence[HistoryEvent], candidate_ids: Sequence[int], future_ids: Sequence[int]
    ) -> TeacherLabel:
        c = np.asarray(candidate_ids, dtype=np.int64)
        f = np.asarray(future_ids, dtype=np.int64)
        sim = (self.v[c] @ self.v[f].T).max(1)
        rel = np.clip((sim - self.sim_floor) / (1.0 - self.sim_floor), 0.0, 1.0)
        rel[np.isin(c, f)] = 1.0
        scores = np.clip(10.0 * rel + self.rng.normal(0.0, self.noise, size=len(c)), 0.0, 10.0)
        return TeacherLabel(
            history=list(history),
            candidate_ids=[int(x) for x in c],
            scores=[round(float(s), 2) for s in scores],
            confidence=float(np.clip(rel.max(initial=0.0), self.min_confidence, 1.0)),
        )


def simulate_teacher_labels(
    histories: Sequence[Sequence[HistoryEvent]],
    futures: Sequence[Sequence[int]],
    item_vectors: np.ndarray,
    *,
    k: int = 20,
    noise: float = 1.5,
    candidate_recall: float = 0.5,
    popular: Sequence[int] | None = None,
    seed: int = 0,
) -> list[TeacherLabel]:
    """One label per (history, held-out future items) pair, over k candidates from `retrieve_candidates` (mixed
    sources when `popular` is given) plus — with probability `candidate_recall` — the first held-out item in place
    of the last candidate, at a random position. That stands for the rest of a serving candidate pipeline
    (co-purchases, the student's own top-k): text retrieval alone finds the next item only ~10% of the time on
    Amazon data, and a teacher can only rate what it is shown."""
    teacher = SimulatedTeacher(item_vectors, noise=noise, seed=seed)
    rng = np.random.default_rng(seed + 1)
    out = []
    for h, f in zip(histories, futures, strict=True):
        cands = retrieve_candidates(h, item_vectors, k=k, popular=popular, rng=rng)
        if not cands:
            continue
        if f and f[0] not in cands and rng.random() < candidate_recall:
            cands = cands[:-1]
            cands.insert(int(rng.integers(len(cands) + 1)), int(f[0]))
        out.append(teacher.judge(h, cands, f))
    return out


def _kendall_tau(a: np.ndarray, b: np.ndarray) -> float:
    """Kendall tau-b of two score vectors (ties in either count as neither concordant nor discordant)."""
    i, j = np.triu_indices(len(a), k=1)
    da, db = np.sign(a[i] - a[j]), np.sign(b[i] - b[j])
    n_a, n_b = (da != 0).sum(), (db != 0).sum()
    if n_a == 0 or n_b == 0:
        return 0.0
    return float((da * db).sum() / np.sqrt(n_a * n_b))


@torch.inference_mode()
def agreement(model: StudentModel, labels: Sequence[TeacherLabel]) -> dict[str, float]:
    """How well the student's order over each label's candidates matches the teacher's (dense ids): top-1
    agreement (the student's best candidate is one of the teacher's best) and mean Kendall tau-b."""
    if not labels:
        return {"top1": 0.0, "kendall_tau": 0.0}
    was_training = model.training
    model.eval()
    try:
        M = model.item_matrix()
        items, events, lengths = encode_histories([as_steps(lb.history) for lb in labels], max_len=model.cfg.max_len)
        u = model.user_vectors(items, events, lengths, M)
        top1, taus = [], []
        for lb, uv in zip(labels, u, strict=True):
            s = (M[torch.tensor(lb.candidate_ids) + 1] @ uv).numpy()
            t = np.asarray(lb.scores)
            top1.append(float(t[int(np.argmax(s))] >= t.max()))
            taus.append(_kendall_tau(s, t))
    finally:
        model.train(was_training)
    return {"top1": float(np.mean(top1)), "kendall_tau": float(np.mean(taus))}
