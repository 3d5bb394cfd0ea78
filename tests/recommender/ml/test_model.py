"""The student's lean single-history forward (StudentModel.last_hidden) against the generic batched one."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dragonrec.recommender.core.types import HistoryEvent
from dragonrec.recommender.ml import Student, StudentConfig, StudentModel
from dragonrec.recommender.ml.data import EVENT_VOCAB


def _student(n_layers: int, n_heads: int) -> Student:
    rng = np.random.default_rng(0)
    torch.manual_seed(0)
    cfg = StudentConfig(hidden=16, n_layers=n_layers, n_heads=n_heads, max_len=6, text_dim=8)
    model = StudentModel(
        cfg, n_items=40, text_vectors=rng.normal(size=(40, 8)).astype(np.float32), n_event_types=len(EVENT_VOCAB)
    )
    # weights away from their near-zero initialisation, so every part of the block (attention, MLP, norms,
    # positions, event types) moves the answer
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.3)
    return Student(model, [100 + i for i in range(40)])


@pytest.mark.parametrize(("n_layers", "n_heads"), [(1, 1), (2, 1), (2, 4)])
@pytest.mark.parametrize("length", [1, 4, 6, 9])
def test_one_history_gets_the_same_user_vector_as_the_batched_forward(n_layers: int, n_heads: int, length: int):
    student = _student(n_layers, n_heads)
    rng = np.random.default_rng(length)
    events = ["view", "purchase", "add_to_cart", "click"]
    history = [
        HistoryEvent(product_id=100 + int(p), event_type=events[i % 4], timestamp=float(i))
        for i, p in enumerate(rng.integers(40, size=length))
    ]
    lean = student.user_vector(history)  # one history: the lean path
    batched = student.user_vectors([history, history[:1]])[0]  # the transformers forward, padded batch
    assert np.allclose(lean, batched, atol=1e-5), np.abs(lean - batched).max()
    # and it is this history's vector, not any history's: another order gives another vector
    student.forget_user_vectors()
    assert not np.allclose(student.user_vector(history[::-1]), lean, atol=1e-3) or length == 1
