from __future__ import annotations

import pytest
import torch

from dragonrec.recommender.ml.optim import SparseReplayAdam

BETAS = (0.9, 0.98)  # the student's


def _sparse_and_dense_runs(steps: int, *, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, SparseReplayAdam, list]:
    """The same embedding table trained by dense Adam (zero gradient on rows a step does not touch) and by
    SparseReplayAdam (sparse gradients), on steps that each touch a random ~10% of the rows (as the sampled
    softmax touches the sampled items). Returns both tables, the sparse optimizer and the rows of each step."""
    gen = torch.Generator().manual_seed(seed)
    n, d = 200, 8
    init = torch.randn(n, d, generator=gen)
    dense = torch.nn.Embedding(n, d, _weight=init.clone())
    sparse = torch.nn.Embedding(n, d, _weight=init.clone(), sparse=True)
    target = torch.randn(n, d, generator=gen)
    opt_dense = torch.optim.Adam(dense.parameters(), lr=0.01, betas=BETAS)
    opt_sparse = SparseReplayAdam(sparse.parameters(), lr=0.01, betas=BETAS)
    touched = []
    for _ in range(steps):
        rows = torch.unique(torch.randint(n, (20,), generator=gen))
        touched.append(rows)
        opt_sparse.catch_up(rows)  # before the forward reads them, as the training loop does
        for emb, opt in ((dense, opt_dense), (sparse, opt_sparse)):
            opt.zero_grad()
            ((emb(rows) - target[rows]) ** 2).sum().backward()
            opt.step()
    return dense.weight.detach(), sparse.weight.detach(), opt_sparse, touched


def test_rows_a_step_touches_move_as_under_dense_adam():
    # given: 60 steps, most rows skipped for several steps between two touches
    dense, sparse, _, touched = _sparse_and_dense_runs(60)

    # then: the rows of the last step (caught up on the steps they skipped, then updated) equal dense Adam's
    rows = touched[-1]
    assert torch.allclose(sparse[rows], dense[rows], rtol=1e-4, atol=1e-6)


def test_flush_brings_every_row_to_dense_adams_weights():
    # given
    dense, sparse, opt, touched = _sparse_and_dense_runs(60, seed=1)
    untouched_lately = torch.ones(len(dense), dtype=torch.bool)
    untouched_lately[touched[-1]] = False
    # before the flush, rows not in the last step still lag dense Adam (their momentum is not replayed yet)
    assert not torch.allclose(sparse[untouched_lately], dense[untouched_lately], rtol=1e-4, atol=1e-6)

    # when
    opt.flush()

    # then
    assert torch.allclose(sparse, dense, rtol=1e-4, atol=1e-6)


def test_early_steps_replay_with_adams_bias_correction():
    # given: a short run, where the bias corrections of the skipped steps are far from 1
    dense, sparse, opt, _ = _sparse_and_dense_runs(6, seed=2)

    # when
    opt.flush()

    # then
    assert torch.allclose(sparse, dense, rtol=1e-4, atol=1e-6)


def test_a_dense_gradient_or_unbounded_betas_are_refused():
    p = torch.nn.Parameter(torch.zeros(3, 2))
    with pytest.raises(ValueError):
        SparseReplayAdam([p], betas=(0.99, 0.98))  # b1 >= sqrt(b2): the replayed updates would not shrink
    opt = SparseReplayAdam([p])
    p.sum().backward()
    with pytest.raises(RuntimeError, match="sparse"):
        opt.step()
