"""Toy data for the student tests: small, synthetic, built so that the right answer is obvious."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dragonrec.recommender.ml import StudentConfig


@pytest.fixture(autouse=True)
def _one_thread():
    # Toy models gain nothing from intra-op threads, and on a shared 2-core box two spinning threads per process
    # slow everything down several-fold.
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def tiny_config() -> StudentConfig:
    # Small and lightly regularised so a few seconds of CPU learn the toy patterns.
    return StudentConfig(
        hidden=32,
        n_layers=1,
        n_heads=1,
        max_len=10,
        dropout=0.1,
        attn_dropout=0.1,
        id_dropout=0.0,
        lr=3e-3,
        batch_size=32,
        max_epochs=25,
        eval_every=5,
        min_epochs=5,
        patience=3,
        bf16=False,
    )


@pytest.fixture
def clustered_text_vectors():
    return _clustered_text_vectors


def _clustered_text_vectors(n_items: int, *, n_clusters: int = 2, dim: int = 384, seed: int = 0) -> np.ndarray:
    """Unit vectors around one random direction per cluster; item i belongs to cluster i % n_clusters."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_clusters, dim))
    v = centres[np.arange(n_items) % n_clusters] + 0.3 * rng.normal(size=(n_items, dim))
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)
