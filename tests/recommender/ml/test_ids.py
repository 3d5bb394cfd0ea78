"""Shop product ids onto the student's dense ids: what `Student.fit` trains on."""

from __future__ import annotations

import pytest

from dragonrec.recommender.core.types import PURCHASE, VIEW, HistoryEvent
from dragonrec.recommender.ml.data import TeacherLabel
from dragonrec.recommender.ml.ids import DenseIds


def test_training_data_moves_events_targets_and_judgments_onto_dense_ids() -> None:
    # given: three known products (shop ids 70, 50, 90 are dense 0, 1, 2) and product 999 the model does not know
    ids = DenseIds([70, 50, 90])
    history = [HistoryEvent(50, VIEW, 0.0), HistoryEvent(999, VIEW, 1.0), HistoryEvent(90, PURCHASE, 2.0)]
    judged = TeacherLabel(history=history, candidate_ids=[999, 70, 90], scores=[9.0, 7.0, 3.0], confidence=0.5)
    unjudgeable = TeacherLabel(history=history, candidate_ids=[999], scores=[9.0])

    # when
    seqs, valid, labels = ids.training_data([history], [(history, 70), (history, 999)], [judged, unjudgeable])

    # then: unknown products are dropped everywhere, and a judgment left with no candidate goes too
    assert seqs == [[(1, VIEW), (2, PURCHASE)]]
    assert valid == [([(1, VIEW), (2, PURCHASE)], 0)]
    assert len(labels) == 1
    assert labels[0].candidate_ids == [0, 2]
    assert labels[0].scores == [7.0, 3.0]
    assert labels[0].confidence == 0.5
    assert [(e.product_id, e.event_type) for e in labels[0].history] == [(1, VIEW), (2, PURCHASE)]
    assert list(ids.dense([90, 999, 70])) == [2, -1, 0]


def test_duplicate_product_ids_are_refused() -> None:
    with pytest.raises(ValueError, match="duplicate product ids"):
        DenseIds([1, 2, 1])
