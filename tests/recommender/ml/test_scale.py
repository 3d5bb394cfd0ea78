"""Training at scale: sampled softmax with logQ correction, sequences streamed from Parquet, the device setting."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
import torch

from dragonrec.recommender.ml import StudentConfig
from dragonrec.recommender.ml.data import EVENT_VOCAB, ParquetSequences, TeacherLabel, make_windows, write_sequences
from dragonrec.recommender.ml.losses import full_softmax_ce, mixed_sample_log_q, sampled_softmax_ce
from dragonrec.recommender.ml.metrics import full_ranking_metrics
from dragonrec.recommender.ml.objective import NextItemLoss, resolve_device, use_sampled_softmax
from dragonrec.recommender.ml.train import train_student


@pytest.mark.parametrize("bf16", [False, True])
def test_sampled_softmax_over_every_item_without_correction_is_the_full_softmax(bf16: bool) -> None:
    # at either precision (StudentConfig.bf16): the two losses differ only in what they sum over
    torch.manual_seed(0)
    h = torch.randn(12, 64, requires_grad=True)
    M = torch.randn(30, 64, requires_grad=True)
    targets = torch.randint(30, (12,))
    w = torch.rand(12)
    full = full_softmax_ce(h, M, targets, w, bf16=bf16)
    (g_full_h, g_full_m) = torch.autograd.grad(full, [h, M])
    sampled = sampled_softmax_ce(h, M, targets, w, bf16=bf16)
    (g_h, g_m) = torch.autograd.grad(sampled, [h, M])
    torch.testing.assert_close(sampled, full)
    torch.testing.assert_close(g_h, g_full_h)
    torch.testing.assert_close(g_m, g_full_m)


def test_the_inclusion_probability_matches_the_sampler() -> None:
    # a step's candidates: its 40 targets (drawn by popularity) plus 15 uniform draws out of 50 items
    rng = np.random.default_rng(0)
    share = rng.dirichlet(np.full(50, 0.3))
    included = np.zeros(50)
    trials = 4000
    for _ in range(trials):
        batch = rng.choice(50, size=40, p=share)
        uniform = rng.integers(50, size=15)
        included[np.unique(np.concatenate([batch, uniform]))] += 1
    q = mixed_sample_log_q(torch.tensor(share), n_targets=40, n_drawn=15, draw_prob=1 / 50).exp().numpy()
    np.testing.assert_allclose(included / trials, q, atol=0.03)


def test_negatives_drawn_by_popularity_are_corrected_by_the_probability_they_were_drawn_with() -> None:
    # 15 negatives a step out of 50 items, drawn by (target count + 1) ** 0.7: the popular items are in most steps'
    # candidates and the rare ones in few, and the step's logQ must say so (a uniform 1 / 50 would say 26% for all)
    counts = np.random.default_rng(1).zipf(1.6, size=50).astype(np.float64)
    cfg = StudentConfig(loss="sampled", n_negatives=15, negatives_popularity_power=0.7)
    loss = NextItemLoss(cfg, n_items=50, target_counts=counts, device=torch.device("cpu"), seed=0)
    included = np.zeros(50)
    trials = 4000
    no_targets = torch.zeros(0, dtype=torch.long)
    for _ in range(trials):
        included[loss.draw(no_targets).numpy()] += 1
    q = loss.log_q(torch.arange(50), n_targets=0).exp().numpy()
    np.testing.assert_allclose(included / trials, q, atol=0.03)
    assert q.max() > 0.9 and q.min() < 0.15  # the proposal is far from uniform, so the check above has teeth


TRUE = np.array([0.5, 0.2, 0.1, 0.08, 0.05, 0.03, 0.02, 0.01, 0.005, 0.005])  # next-item distribution, one context


def _mean_gradient(*, correct: bool, draws: int = 400, given_the_batch: bool = False) -> np.ndarray:
    """The sampled loss's gradient w.r.t. one free logit per item, averaged over `draws` steps, at the full softmax's
    optimum (logits = log of the true distribution). Each step's candidates: its 8 targets (drawn from the true
    distribution, so popular items are in almost every sample) plus 2 uniform items. given_the_batch: the
    correction NextItemLoss makes with logq_correction "drawn" (the step's targets exact, the draws corrected)."""
    rng = np.random.default_rng(0)
    gen = torch.Generator().manual_seed(0)
    logits = torch.tensor(np.log(TRUE), dtype=torch.float32)[:, None].requires_grad_(True)
    share = torch.tensor(TRUE)
    drawn_cfg = StudentConfig(loss="sampled", n_negatives=2, logq_correction="drawn")
    drawn = NextItemLoss(drawn_cfg, n_items=10, target_counts=TRUE * 1000, device=torch.device("cpu"), seed=0)
    total = torch.zeros(10, 1)
    for _ in range(draws):
        targets = torch.from_numpy(rng.choice(10, size=8, p=TRUE))
        candidates = torch.unique(torch.cat([targets, torch.randint(10, (2,), generator=gen)]))
        log_q = mixed_sample_log_q(share[candidates], n_targets=8, n_drawn=2, draw_prob=1 / 10) if correct else None
        if given_the_batch:
            log_q = drawn.log_q(candidates, n_targets=8, targets=targets)
        loss = sampled_softmax_ce(
            torch.ones(8, 1),
            logits[candidates],
            torch.searchsorted(candidates, targets),
            torch.full((8,), 1 / 8),
            log_q=log_q,
        )
        total += torch.autograd.grad(loss, logits)[0]
    return (total / draws)[:, 0].numpy()


def test_logq_correction_keeps_the_full_softmax_optimum() -> None:
    # at the full softmax's optimum the full gradient is zero. Uncorrected, in-batch sampling pushes the popular item
    # down (it is a negative in almost every step; measured +0.107 on its logit), so training would under-rank what
    # sells most; the logQ-corrected loss leaves the optimum where it is (measured |g| <= 0.007)
    uncorrected = _mean_gradient(correct=False)
    corrected = _mean_gradient(correct=True)
    assert uncorrected[0] > 0.07
    assert np.abs(corrected).max() < 0.03
    # so does the correction given the batch ("drawn"): a target of the step is there for certain and weighs as
    # itself, an item not among the targets is there only when drawn and weighs 1 / its draw probability
    assert np.abs(_mean_gradient(correct=True, given_the_batch=True)).max() < 0.03


def test_the_negatives_only_correction_leaves_each_rows_target_uncorrected() -> None:
    # given one row whose target (candidate 0) is rarely drawn, among 4 candidates
    torch.manual_seed(0)
    h, C = torch.randn(1, 8), torch.randn(4, 8)
    target, w = torch.tensor([0]), torch.ones(1)

    def loss(target_log_q: float, *, correct_positive: bool) -> float:
        log_q = torch.tensor([target_log_q, -0.1, -0.2, -0.3])
        return float(sampled_softmax_ce(h, C, target, w, log_q=log_q, correct_positive=correct_positive))

    # then with "negatives" the row's loss does not move with how often its own target is drawn (it is in the
    # candidates because it is the target) ...
    assert loss(-5.0, correct_positive=False) == pytest.approx(loss(-0.01, correct_positive=False))
    # ... and equals the softmax with the target's logit as scored and the negatives' logits corrected
    logits = h @ C.T - torch.tensor([0.0, -0.1, -0.2, -0.3])
    assert loss(-5.0, correct_positive=False) == pytest.approx(float(torch.logsumexp(logits, 1) - logits[0, 0]))
    # while "all" counts a rarely drawn target as 1/q of itself: its loss shrinks the rarer it is
    assert loss(-5.0, correct_positive=True) < loss(-0.01, correct_positive=True) / 10


def _sequences(n: int, seed: int = 0) -> list[list[tuple[int, str]]]:
    rng = np.random.default_rng(seed)
    kinds = ["view", "click", "add_to_cart", "purchase", "wishlist"]  # "wishlist": a shop's own event (<unk>)
    return [
        [
            (int(p), kinds[int(k)])
            for p, k in zip(rng.integers(40, size=length), rng.integers(5, size=length), strict=True)
        ]
        for length in rng.integers(1, 30, size=n)
    ]


def _canonical(windows) -> list[tuple]:
    return sorted(
        (a.tolist(), e.tolist(), t.tolist(), te.tolist())
        for a, e, t, te in zip(windows.items, windows.events, windows.targets, windows.target_events, strict=True)
    )


def test_streamed_parquet_sequences_give_the_in_memory_windows(tmp_path: Path) -> None:
    from dragonrec.recommender.ml.data import InMemorySequences, windows_from_arrays

    # given sequences written to Parquet 7 per row group
    sequences = _sequences(50)
    data = ParquetSequences(write_sequences(tmp_path / "s.parquet", iter(sequences), rows_per_chunk=7))
    # when training reads them chunk by chunk
    chunks = list(data.chunks(np.random.default_rng(0)))
    # then it reads them in chunks, and together the chunks make exactly the in-memory windows and counts
    assert len(chunks) == 8 and max(len(c) for c in chunks) == 7
    streamed = windows_from_arrays((s for c in chunks for s in c), max_len=6)
    assert _canonical(streamed) == _canonical(make_windows(sequences, max_len=6))
    memory = InMemorySequences(sequences)
    assert len(data) == len(memory) == 50
    assert data.n_windows(6) == memory.n_windows(6) == len(streamed)
    np.testing.assert_array_equal(data.target_counts(40), memory.target_counts(40))


def test_sorted_event_rows_read_in_blocks_become_one_sequence_per_shopper() -> None:
    from dragonrec.recommender.ml.data import sequences_from_sorted_rows

    # given event rows sorted by (shopper, time), one shopper with 9 events among shoppers with 1-3
    rng = np.random.default_rng(0)
    lengths = [2, 1, 9, 3, 1, 2, 3]
    keys = np.repeat([f"s:{i}" for i in range(len(lengths))], lengths)
    dense = rng.integers(100, size=len(keys))
    events = rng.integers(len(EVENT_VOCAB), size=len(keys))
    # when they are read in blocks of 4 rows (so the long shopper spans three blocks, one of them wholly his)
    blocks = [(keys[s : s + 4], dense[s : s + 4], events[s : s + 4]) for s in range(0, len(keys), 4)]
    got = list(sequences_from_sorted_rows(iter(blocks)))
    # then each shopper comes out once, whole and in order
    bounds = np.cumsum([0, *lengths])
    assert [len(d) for d, _ in got] == lengths
    for (d, e), a, b in zip(got, bounds[:-1], bounds[1:], strict=True):
        np.testing.assert_array_equal(d, dense[a:b])
        np.testing.assert_array_equal(e, events[a:b])


def _cycle_sequences(n_items: int, n_users: int, seed: int = 0) -> list[list[tuple[int, str]]]:
    """Every user walks the catalogue in order (item i is followed by i + 1): the next item is always known."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n_users):
        start = int(rng.integers(n_items))
        out.append([((start + j) % n_items, "view") for j in range(8)])
    return out


def test_sampled_softmax_training_from_parquet_learns_the_next_item(tmp_path: Path, tiny_config) -> None:
    # given a 300-item catalogue walked in order, streamed from Parquet, trained with 32 sampled negatives per step
    n_items = 300
    path = write_sequences(tmp_path / "s.parquet", _cycle_sequences(n_items, 300), rows_per_chunk=100)
    rng = np.random.default_rng(1)
    text = rng.normal(size=(n_items, 384)).astype(np.float32)
    tiny_config.loss, tiny_config.n_negatives, tiny_config.max_epochs = "sampled", 32, 10
    tiny_config.ema_epochs = None
    data = ParquetSequences(path)
    result = train_student(sequences=data, n_items=n_items, item_text_vectors=text, config=tiny_config)
    # then the next item ranks first among all 300 for most held-out walks
    probes = _cycle_sequences(n_items, 100, seed=9)
    metrics = full_ranking_metrics(
        result.model, [p[:-1] for p in probes], [p[-1][0] for p in probes], ks=(1,), exclude_history=False
    )
    assert metrics["recall@1"] > 0.6  # measured 0.84; a broken loss (e.g. targets off by one row) gives ~0


def test_auto_loss_is_sampled_only_above_the_size() -> None:
    cfg = StudentConfig(loss="auto", sampled_above_items=1000)
    assert not use_sampled_softmax(cfg, 1000)
    assert use_sampled_softmax(cfg, 1001)
    assert use_sampled_softmax(StudentConfig(loss="sampled"), 10)
    with pytest.raises(ValueError):
        use_sampled_softmax(StudentConfig(loss="softmax"), 10)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the fallback of a machine without a GPU")
def test_device_selection_falls_back_to_the_cpu(caplog: pytest.LogCaptureFixture) -> None:
    assert resolve_device("auto").type == "cpu"
    assert resolve_device("cpu").type == "cpu"
    with caplog.at_level(logging.WARNING):
        assert resolve_device("cuda").type == "cpu"
    assert "no GPU" in caplog.text


def test_event_vocabulary_is_checked_when_streaming(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    # a file written with another vocabulary would silently mislabel every event type
    table = pa.table({"items": [[1, 2]], "events": [[2, 3]]})
    pq.write_table(table.replace_schema_metadata({b"event_vocab": b"<pad>,view"}), tmp_path / "old.parquet")
    with pytest.raises(ValueError):
        ParquetSequences(tmp_path / "old.parquet")
    assert len(EVENT_VOCAB) > 2


def test_sampled_training_with_the_sparse_id_table_ends_where_dense_adam_ends(tiny_config) -> None:
    # given a sampled-softmax run where each step draws 32 of 300 items, so most id rows skip most steps, with
    # teacher judgments (the distillation term reads its histories' and candidates' rows too)
    n_items = 300
    rng = np.random.default_rng(1)
    text = rng.normal(size=(n_items, 384)).astype(np.float32)
    labels = [
        TeacherLabel(
            history=[(int(p), "view") for p in rng.integers(n_items, size=5)],
            candidate_ids=[int(p) for p in rng.choice(n_items, size=8, replace=False)],
            scores=[float(x) for x in rng.uniform(0, 10, size=8)],
        )
        for _ in range(60)
    ]
    tiny_config.loss, tiny_config.n_negatives, tiny_config.max_epochs = "sampled", 32, 2
    tiny_config.ema_epochs = None

    # when the id table is trained once by the sparse Adam (the default) and once by dense AdamW
    weights = {}
    for sparse in (True, False):
        tiny_config.sparse_ids = sparse
        result = train_student(
            sequences=_cycle_sequences(n_items, 100),
            n_items=n_items,
            item_text_vectors=text,
            config=tiny_config,
            teacher_labels=labels,
        )
        weights[sparse] = result.model.id_emb.weight.detach()

    # then the rows end where dense Adam puts them: measured 36 of 9,632 weights more than 1e-4 apart (0.4%: rows
    # whose gradients are so small that Adam's eps, left out of the replayed steps, matters); 126 (1.3%) when the
    # teacher's rows are not caught up before the forward, 200 (2.1%) when no row is, 7,919 (82%) with a lazy sparse
    # Adam (torch's SparseAdam: no replay)
    apart = (weights[True] - weights[False]).abs() > 1e-4
    assert apart.float().mean() < 0.008


@pytest.mark.parametrize("correction", ["negatives", "drawn"])
def test_the_partition_sum_is_estimated_without_bias_given_the_step(correction: str) -> None:
    # one row's partition sum over 60 items, estimated from its step's candidates: the step's 12 targets (the same
    # every trial: one batch) plus 20 uniform draws, each candidate weighed by 1 / its inclusion probability
    scores = torch.from_numpy(np.random.default_rng(2).normal(0.0, 1.5, size=60))
    counts = np.random.default_rng(3).zipf(1.8, size=60).astype(np.float64)
    cfg = StudentConfig(loss="sampled", n_negatives=20, logq_correction=correction)
    loss = NextItemLoss(cfg, n_items=60, target_counts=counts, device=torch.device("cpu"), seed=0)
    # the batch's targets: items the shopper's sequence holds, scored high for this row (as a sequence's own items
    # are), three of them rare ones
    targets = torch.argsort(scores, descending=True)[:12]
    estimates = []
    for _ in range(3000):
        candidates = loss.draw(targets)
        log_q = loss.log_q(candidates, n_targets=len(targets), targets=targets if correction == "drawn" else None)
        estimates.append(float(torch.exp(scores[candidates] - log_q).sum()))
    z = float(torch.exp(scores).sum())
    bias = np.mean(estimates) / z - 1
    if correction == "drawn":
        assert abs(bias) < 0.02  # unbiased given the batch: its targets' terms exact, the draws' weighed
    else:
        # the marginal inclusion probability weighs the batch's high-scoring targets up: the sum comes out too
        # large, and the row's own sequence's items are pushed down harder than the full softmax pushes them
        assert bias > 0.2
