"""Full-ranking next-item evaluation of the student (Recall@K = HR@K with one target, NDCG@K) on plain tensors.

Protocol of the published Amazon LOO anchors (TIGER, S3-Rec all-rank): score every product, remove the products of
the input history from the ranking, and find the rank of the one held-out target. This module only computes the
student's scores efficiently; ranks and metrics come from `recommender.core.metrics` (the one ranking-metrics module:
ties count against the target, everywhere), so early stopping, the promotion gate and the harness agree.

    >>> RankingEvalSet(histories, targets, max_len=50).metrics(model)       # dense ids (training, benches)
    >>> student_ranking_metrics(student, [(history_events, product_id), ...])  # shop ids (the promotion gate)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

import numpy as np
import torch

from dragonrec.recommender.core.metrics import ranking_metrics, target_ranks
from dragonrec.recommender.core.types import HistoryEvent, ProductId
from dragonrec.recommender.ml.data import Step, as_steps, encode_histories
from dragonrec.recommender.ml.model import StudentModel


class RankingStudent(Protocol):
    """What the promotion gate's metrics need of a trained student (ml.student.Student): a protocol, so the
    metrics the trainer uses do not import the artifact that imports the trainer."""

    product_ids: list[ProductId]

    def dense_ids(self, product_ids: Sequence[ProductId] | np.ndarray) -> np.ndarray: ...

    def score_matrix(
        self,
        histories: Sequence[Iterable[HistoryEvent | Step]],
        candidate_ids: Sequence[ProductId],
        *,
        text_vectors: np.ndarray | None = None,
    ) -> np.ndarray: ...


EVAL_BATCH = 512  # histories scored at once: 512 x 12k float32 = 25 MB


class RankingEvalSet:
    """(history, target) pairs encoded once, so validation every few epochs costs only the forward pass."""

    def __init__(
        self,
        histories: Sequence[Sequence[HistoryEvent | Step]],
        targets: Sequence[int],
        *,
        max_len: int,
        exclude_history: bool = True,
        batch_size: int = 1024,
    ) -> None:
        self.batches = []
        # Batches of similar-length histories: padding to 50 steps for one long history made the forward pass
        # ~5x the cost of the scoring. Ranks are put back in input order.
        self.order = np.argsort([len(h) for h in histories], kind="stable")
        histories = [histories[i] for i in self.order]
        ordered_targets = np.asarray(targets, dtype=np.int64)[self.order]
        for s in range(0, len(histories), batch_size):
            hs = [as_steps(h) for h in histories[s : s + batch_size]]
            items, events, lengths = encode_histories(hs, max_len=max_len)
            rows = torch.repeat_interleave(torch.arange(len(hs)), torch.tensor([len(h) for h in hs]))
            cols = torch.tensor([p for h in hs for p, _ in h], dtype=torch.long)
            if not exclude_history:
                rows, cols = rows[:0], cols[:0]
            t = torch.from_numpy(ordered_targets[s : s + batch_size])
            self.batches.append((items, events, lengths, rows, cols, t))

    def __len__(self) -> int:
        return sum(len(b[-1]) for b in self.batches)

    @torch.inference_mode()
    def ranks(self, model: StudentModel) -> np.ndarray:
        """1-based rank of each target (core.metrics.target_ranks: ties count against it), in input order."""
        was_training = model.training
        model.eval()
        out = []
        try:
            M = model.item_matrix()
            n = M.shape[0] - 1
            dev = M.device  # the model may be training on a GPU
            for items, events, lengths, rows, cols, t in self.batches:
                u = model.user_vectors(items.to(dev), events.to(dev), lengths.to(dev), M)
                scores = u @ M[1:].T
                keep = cols < n
                scores[rows[keep].to(dev), cols[keep].to(dev)] = float("-inf")
                out.append(target_ranks(scores.float().cpu().numpy(), t.numpy()))
        finally:
            model.train(was_training)
        if not out:
            return np.zeros(0, dtype=np.int64)
        ranks = np.empty(len(self.order), dtype=np.int64)
        ranks[self.order] = np.concatenate(out)
        return ranks

    def metrics(self, model: StudentModel, ks: Sequence[int] = (5, 10, 20)) -> dict[str, float]:
        return ranking_metrics(self.ranks(model), ks)


def full_ranking_metrics(
    model: StudentModel,
    histories: Sequence[Sequence[HistoryEvent | Step]],
    targets: Sequence[int],
    *,
    ks: Sequence[int] = (5, 10, 20),
    exclude_history: bool = True,
) -> dict[str, float]:
    """Recall@K/NDCG@K of dense `targets` given dense `histories`, ranking the whole catalogue."""
    es = RankingEvalSet(histories, targets, max_len=model.cfg.max_len, exclude_history=exclude_history)
    return es.metrics(model, ks)


def student_ranking_metrics(
    student: RankingStudent,
    pairs: Sequence[tuple[Sequence[HistoryEvent], ProductId]],
    *,
    ks: Sequence[int] = (10,),
) -> dict[str, float]:
    """Recall@K/NDCG@K of a trained student on (history, next product id) pairs in shop ids, ranking its whole
    catalogue with the history's products removed. A target the student does not know counts as a miss, so two
    versions trained on different catalogues are compared on the same pairs (the promotion gate). Products of the
    history other than the target are removed from the ranking."""
    if not pairs:
        return ranking_metrics(np.zeros(0), ks)
    catalogue = list(student.product_ids)
    ranks = []
    for start in range(0, len(pairs), EVAL_BATCH):
        chunk = pairs[start : start + EVAL_BATCH]
        scores = np.array(student.score_matrix([h for h, _ in chunk], catalogue), dtype=np.float32)
        dense = student.dense_ids([t for _, t in chunk])
        for row, (history, _) in enumerate(chunk):
            seen = student.dense_ids([e.product_id for e in history])
            # tracking histories repeat products (view, then cart): a target already seen stays rankable
            scores[row, seen[(seen >= 0) & (seen != dense[row])]] = -np.inf
        known = dense >= 0
        # an unknown target ranks past the catalogue: a miss at every k
        chunk_ranks = np.full(len(chunk), len(catalogue) + 1, dtype=np.int64)
        if known.any():
            chunk_ranks[known] = target_ranks(scores[known], dense[known])
        ranks.append(chunk_ranks)
    return ranking_metrics(np.concatenate(ranks), ks)
