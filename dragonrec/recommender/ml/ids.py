"""Shop product ids and the model's dense ids (0..n_items-1, the row of the text-vector matrix; ml/data.py works on
dense ids only): the lookup a `Student` keeps, and moving training data from one to the other.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from dragonrec.recommender.core.types import HistoryEvent, ProductId
from dragonrec.recommender.ml.data import Step, TeacherLabel


class DenseIds:
    """product id -> dense id (`dense_of`, one id; `dense`, many at once) and dense id -> product id (`pids`)."""

    def __init__(self, product_ids: Sequence[ProductId]) -> None:
        self.dense_of: dict[ProductId, int] = {int(p): i for i, p in enumerate(product_ids)}
        if len(self.dense_of) != len(product_ids):
            raise ValueError("duplicate product ids in the item index")
        # Sorted-array lookup: maps a whole catalogue of ids to dense ids in one vectorised call.
        self.pids = np.asarray(product_ids, dtype=np.int64)  # retrieval maps hundreds of dense ids per request
        self._order = np.argsort(self.pids, kind="stable")
        self._sorted = self.pids[self._order]

    def dense(self, product_ids: Sequence[ProductId] | np.ndarray) -> np.ndarray:
        """Dense id of each product id, -1 where the model does not know it."""
        q = np.asarray(product_ids, dtype=np.int64).reshape(-1)
        if not len(self._sorted) or not len(q):
            return np.full(len(q), -1, dtype=np.int64)
        pos = np.searchsorted(self._sorted, q).clip(0, len(self._sorted) - 1)
        found = self._sorted[pos] == q
        return np.where(found, self._order[pos], -1)

    def steps(self, history: Iterable[HistoryEvent | Step]) -> list[Step]:
        """A history on shop product ids as dense steps; unknown products are skipped (they carry no id)."""
        steps: list[Step] = []
        for ev in history:
            pid, et = (ev.product_id, ev.event_type) if isinstance(ev, HistoryEvent) else (ev[0], ev[1])
            d = self.dense_of.get(int(pid))
            if d is not None:
                steps.append((d, et))
        return steps

    def training_data(
        self,
        sequences: Iterable[Sequence[HistoryEvent]],
        valid: Iterable[tuple[Sequence[HistoryEvent], ProductId]],
        teacher_labels: Iterable[TeacherLabel],
    ) -> tuple[list[list[Step]], list[tuple[list[Step], int]], list[TeacherLabel]]:
        """Training sequences, validation pairs and teacher judgments on shop product ids, moved onto dense ids:
        events, targets and candidates on unknown products are dropped (a judgment left with none goes too)."""
        dense_of = self.dense_of
        seqs = [self.steps(s) for s in sequences]
        val = [(self.steps(h), dense_of[int(t)]) for h, t in valid if int(t) in dense_of]
        labels = []
        for lb in teacher_labels:
            keep = [
                (dense_of[int(c)], s) for c, s in zip(lb.candidate_ids, lb.scores, strict=True) if int(c) in dense_of
            ]
            if keep:
                history = [HistoryEvent(p, e, float(i)) for i, (p, e) in enumerate(self.steps(lb.history))]
                labels.append(
                    TeacherLabel(
                        history=history,
                        candidate_ids=[c for c, _ in keep],
                        scores=[s for _, s in keep],
                        confidence=lb.confidence,
                    )
                )
        return seqs, val, labels
