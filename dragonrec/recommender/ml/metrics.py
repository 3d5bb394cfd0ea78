"""Full-ranking next-item metrics (Recall@K = HR@K with one target, NDCG@K) for the student, on plain tensors.

Protocol of the published Amazon LOO anchors (TIGER, S3-Rec all-rank): score every product, remove the products of
the input history from the ranking, and find the rank of the one held-out target.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from dragonrec.recommender.ml.data import Step, as_steps, encode_histories
from dragonrec.recommender.ml.model import StudentModel


def ranks_of_targets(scores: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """0-based rank of each target among its row's scores (ties counted in the target's favour, like most
    reference implementations; with float scores they practically never happen). -inf targets rank last."""
    t = scores.gather(1, targets.unsqueeze(1))
    r = (scores > t).sum(1)
    return torch.where(torch.isneginf(t.squeeze(1)), torch.full_like(r, scores.shape[1]), r)


def metrics_from_ranks(ranks: np.ndarray, ks: Sequence[int] = (5, 10, 20)) -> dict[str, float]:
    ranks = np.asarray(ranks)
    out: dict[str, float] = {}
    for k in ks:
        hit = ranks < k
        out[f"recall@{k}"] = float(hit.mean()) if len(ranks) else 0.0
        out[f"ndcg@{k}"] = float((hit / np.log2(ranks + 2.0)).mean()) if len(ranks) else 0.0
    return out


class RankingEvalSet:
    """(history, target) pairs encoded once, so validation every few epochs costs only the forward pass."""

    def __init__(
        self,
        histories: Sequence[Sequence[Step]],
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
        targets = np.asarray(targets, dtype=np.int64)[self.order]
        for s in range(0, len(histories), batch_size):
            hs = [as_steps(h) for h in histories[s : s + batch_size]]
            items, events, lengths = encode_histories(hs, max_len=max_len)
            rows = torch.repeat_interleave(torch.arange(len(hs)), torch.tensor([len(h) for h in hs]))
            cols = torch.tensor([p for h in hs for p, _ in h], dtype=torch.long)
            if not exclude_history:
                rows, cols = rows[:0], cols[:0]
            t = torch.from_numpy(targets[s : s + batch_size])
            self.batches.append((items, events, lengths, rows, cols, t))

    def __len__(self) -> int:
        return sum(len(b[-1]) for b in self.batches)

    @torch.inference_mode()
    def ranks(self, model: StudentModel) -> np.ndarray:
        was_training = model.training
        model.eval()
        out = []
        try:
            M = model.item_matrix()
            n = M.shape[0] - 1
            for items, events, lengths, rows, cols, t in self.batches:
                u = model.user_vectors(items, events, lengths, M)
                scores = u @ M[1:].T
                keep = cols < n
                scores[rows[keep], cols[keep]] = float("-inf")
                out.append(ranks_of_targets(scores, t).numpy())
        finally:
            model.train(was_training)
        if not out:
            return np.zeros(0, dtype=np.int64)
        ranks = np.empty(len(self.order), dtype=np.int64)
        ranks[self.order] = np.concatenate(out)
        return ranks

    def metrics(self, model: StudentModel, ks: Sequence[int] = (5, 10, 20)) -> dict[str, float]:
        return metrics_from_ranks(self.ranks(model), ks)


def full_ranking_metrics(
    model: StudentModel,
    histories: Sequence[Sequence[Step]],
    targets: Sequence[int],
    *,
    ks: Sequence[int] = (5, 10, 20),
    exclude_history: bool = True,
) -> dict[str, float]:
    """Recall@K/NDCG@K of dense `targets` given dense `histories`, ranking the whole catalogue."""
    es = RankingEvalSet(histories, targets, max_len=model.cfg.max_len, exclude_history=exclude_history)
    return es.metrics(model, ks)
