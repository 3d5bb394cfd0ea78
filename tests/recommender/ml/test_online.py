"""The online update's fine-tuning (ml/online.py): replay keeps what the hour's traffic does not show."""

from __future__ import annotations

import numpy as np
import pytest

from dragonrec.recommender.core.types import HistoryEvent
from dragonrec.recommender.ml import Student, StudentConfig
from dragonrec.recommender.ml.online import OnlineUpdate, RewardExample, online_update

N_ITEMS = 40
PRODUCT_IDS = [1000 + 3 * i for i in range(N_ITEMS)]


def walks(cluster: int, count: int, rng: np.random.Generator) -> list[list[HistoryEvent]]:
    """Shoppers stepping through one cluster (every other product) in order: the next product is always the one two
    ids on, so a model that knows the pattern gets every next product right."""
    out = []
    for _ in range(count):
        start = int(rng.integers(0, N_ITEMS // 2))
        steps = [PRODUCT_IDS[2 * ((start + j) % (N_ITEMS // 2)) + cluster] for j in range(6)]
        out.append([HistoryEvent(product_id=p, event_type="view", timestamp=float(i)) for i, p in enumerate(steps)])
    return out


def next_product_accuracy(student: Student, sequences: list[list[HistoryEvent]]) -> float:
    hits = [
        PRODUCT_IDS[int(np.argmax(student.score(seq[:-1], PRODUCT_IDS)))] == seq[-1].product_id for seq in sequences
    ]
    return float(np.mean(hits))


def test_replay_keeps_a_pattern_the_hours_traffic_never_shows(
    tiny_config: StudentConfig, clustered_text_vectors
) -> None:  # type: ignore[no-untyped-def]
    # given: a student that knows both clusters' walks
    rng = np.random.default_rng(0)
    older = walks(0, 100, rng) + walks(1, 100, rng)
    tiny_config.max_epochs = 15
    student = Student.fit(
        sequences=older, product_ids=PRODUCT_IDS, text_vectors=clustered_text_vectors(N_ITEMS), config=tiny_config
    )
    held_out = walks(1, 40, rng)
    assert next_product_accuracy(student, held_out) == 1.0
    # when: an hour of traffic shows only cluster 0, fine-tuned hard, with and without replay of older shoppers
    hour = walks(0, 100, rng)
    strong = {"steps": 150, "lr": 1e-2, "batch_size": 32}
    forgot = online_update(student, sequences=hour, update=OnlineUpdate(**strong, replay_share=0.0))
    kept = online_update(student, sequences=hour, replay=older, update=OnlineUpdate(**strong, replay_share=0.5))
    # then: without replay cluster 1 is forgotten; with it, it is kept, and the hour's pattern is learnt either way
    assert next_product_accuracy(forgot, held_out) <= 0.8
    assert next_product_accuracy(kept, held_out) >= 0.95
    assert next_product_accuracy(kept, walks(0, 40, rng)) >= 0.95


def test_replay_share_must_leave_room_for_the_hours_traffic() -> None:
    with pytest.raises(ValueError, match="replay_share"):
        OnlineUpdate(replay_share=1.0)


def test_the_listwise_form_learns_what_was_clicked_over_what_was_passed_over(
    tiny_config: StudentConfig, clustered_text_vectors
) -> None:  # type: ignore[no-untyped-def]
    # given: a student that, after some history, puts the walk's next product above another product of the cluster
    rng = np.random.default_rng(0)
    tiny_config.max_epochs = 15
    student = Student.fit(
        sequences=walks(0, 100, rng),
        product_ids=PRODUCT_IDS,
        text_vectors=clustered_text_vectors(N_ITEMS),
        config=tiny_config,
    )
    history = walks(0, 1, rng)[0][:-1]
    last = PRODUCT_IDS.index(history[-1].product_id)
    expected, other = PRODUCT_IDS[(last + 2) % N_ITEMS], PRODUCT_IDS[(last + 4) % N_ITEMS]  # one and two steps on
    before = student.score(history, [expected, other])
    assert before[0] > before[1]
    # when: shoppers shown both, with that one in an explored slot, keep clicking the other one
    clicks = [
        RewardExample(history=history, product_id=other, propensity=0.5, shown=(expected, other)) for _ in range(20)
    ]
    tuned = online_update(
        student, sequences=[], rewards=clicks, update=OnlineUpdate(form="listwise", steps=50, lr=1e-2, batch_size=20)
    )
    # then: the clicked product now comes first for that history
    after = tuned.score(history, [expected, other])
    assert after[1] > after[0]
