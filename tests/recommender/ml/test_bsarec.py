"""BSARec's frequency filter (ml/bsarec.py) and the BSARec backbone on the student's trainer."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dragonrec.recommender.core.types import HistoryEvent
from dragonrec.recommender.ml import Student
from dragonrec.recommender.ml.bsarec import BSARecBackbone, FrequencyFilter
from dragonrec.recommender.ml.data import prefix_windows_from_arrays
from dragonrec.recommender.ml.model import StudentConfig, bsarec_config


def _bsarec_lowpass(x: torch.Tensor, c: int) -> torch.Tensor:
    """BSARec's own filter over a whole window: rFFT over the steps, frequencies from c // 2 + 1 on zeroed."""
    spectrum = torch.fft.rfft(x, dim=1, norm="ortho")
    spectrum[:, c // 2 + 1 :, :] = 0
    return torch.fft.irfft(spectrum, n=x.shape[1], dim=1, norm="ortho")


def test_the_causal_filter_gives_each_step_what_bsarec_gives_the_last_step_of_its_window() -> None:
    torch.manual_seed(0)
    window, c, d = 8, 5, 4
    filt = FrequencyFilter(d, window=window, c=c, dropout=0.0)
    x = torch.randn(2, 12, d)
    low = filt.lowpass(x)
    for t in range(12):
        # the window of `window` steps ending at t, zeros before the sequence starts
        win = torch.zeros(2, window, d)
        start = max(0, t - window + 1)
        win[:, window - (t - start + 1) :] = x[:, start : t + 1]
        assert torch.allclose(low[:, t], _bsarec_lowpass(win, c)[:, -1], atol=1e-5)


def test_the_filter_never_reads_a_later_step() -> None:
    torch.manual_seed(0)
    filt = FrequencyFilter(4, window=8, c=5, dropout=0.0).eval()
    x = torch.randn(1, 10, 4)
    changed = x.clone()
    changed[:, 6:] += 5.0
    assert torch.allclose(filt(x)[:, :6], filt(changed)[:, :6], atol=1e-6)
    assert not torch.allclose(filt(x)[:, 6:], filt(changed)[:, 6:], atol=1e-3)


def _cycle_sequences(n: int) -> list[list[HistoryEvent]]:
    """200 users, each walking the cycle 0 -> 1 -> ... -> n-1 -> 0 for 4-8 steps from a random start."""
    rng = np.random.default_rng(0)
    seqs = []
    for _ in range(200):
        start = int(rng.integers(n))
        seqs.append([HistoryEvent((start + i) % n, "purchase", float(i)) for i in range(int(rng.integers(4, 9)))])
    return seqs


def test_bsarec_trains_on_the_student_trainer_and_learns_a_sequence_pattern() -> None:
    # every user walks a cycle 0 -> 1 -> ... -> 9 -> 0 from a random start; the next item is always the successor
    n = 10
    seqs = _cycle_sequences(n)
    cfg = bsarec_config(
        hidden=16, max_len=10, dropout=0.1, attn_dropout=0.0, lr=1e-2, max_epochs=12, min_epochs=12, text_dim=8
    )
    student = Student.fit(
        sequences=seqs, product_ids=list(range(n)), text_vectors=np.zeros((n, 8), np.float32), config=cfg, seed=0
    )
    assert student.config.backbone == "bsarec"
    history = [HistoryEvent(p, "purchase", float(i)) for i, p in enumerate([3, 4, 5])]
    scores = student.score(history, list(range(n)))
    assert int(np.argmax(scores)) == 6


def _bsarec_forward(backbone: BSARecBackbone, x: torch.Tensor, n_real: int) -> torch.Tensor:
    """BSARec's own forward (its repository's BSARecModel in eval mode) over ONE history of `n_real` steps, written
    from its code with the backbone's weights: the steps left-padded into the window, positions added to the padding
    too, an rFFT low-pass over the whole window, attention with an additive -10000 mask (causal, padding keys off)."""
    W, d = backbone.window, x.shape[-1]
    seq = torch.zeros(1, W, d)
    seq[0, W - n_real :] = x
    h = backbone.norm(seq + backbone.positions.weight[:W])
    keys = torch.zeros(W)
    keys[W - n_real :] = 1
    mask = (1.0 - keys.view(1, 1, 1, W) * torch.ones(W, W).tril().view(1, 1, W, W)) * -10000.0
    for block in backbone.blocks:
        filt = block.filter
        spectrum = torch.fft.rfft(h, dim=1, norm="ortho")
        spectrum[:, filt.keep :, :] = 0
        low = torch.fft.irfft(spectrum, n=W, dim=1, norm="ortho")
        dsp = filt.norm(low + filt.sqrt_beta**2 * (h - low) + h)
        att = block.attention
        q, k, v = (t.view(1, W, att.heads, -1).transpose(1, 2) for t in att.qkv(h).split(d, dim=2))
        scores = q @ k.transpose(-1, -2) / (d // att.heads) ** 0.5 + mask
        a = (scores.softmax(-1) @ v).transpose(1, 2).reshape(1, W, d)
        gsp = att.norm(att.out(a) + h)
        mixed = block.alpha * dsp + (1 - block.alpha) * gsp
        ffn = block.ffn_out(torch.nn.functional.gelu(block.ffn_in(mixed)))
        h = block.norm(ffn + mixed)
    return h[0, -1]


def test_with_prefix_targets_the_backbone_is_bsarecs_own_circular_forward() -> None:
    torch.manual_seed(0)
    W, d = 12, 8
    backbone = BSARecBackbone(
        d, n_layers=2, max_len=W, ffn_mult=4, heads=2, dropout=0.0, attn_dropout=0.0, c=5, alpha=0.7, circular=True
    ).eval()
    lengths = torch.tensor([5, 12, 1])
    x = torch.randn(3, 12, d)
    real = torch.arange(12).unsqueeze(0) < lengths.unsqueeze(1)
    x = x * real.unsqueeze(-1)  # right-padded rows, as StudentModel.encode hands them
    positions = (torch.arange(12).unsqueeze(0) + (W - lengths).unsqueeze(1)).clamp(0, W - 1)
    with torch.no_grad():
        out = backbone(inputs_embeds=x, position_ids=positions, real=real).last_hidden_state
        for b, n in enumerate(lengths.tolist()):
            assert torch.allclose(out[b, n - 1], _bsarec_forward(backbone, x[b, :n], n), atol=1e-5)
    # an earlier step of a prefix reads a later one: the circular filter is not causal (hence prefix targets only)
    changed = x.clone()
    changed[1, 11] += 3.0 * torch.randn(d)  # not a constant: the first LayerNorm would remove it
    with torch.no_grad():
        moved = backbone(inputs_embeds=changed, position_ids=positions, real=real).last_hidden_state
    assert not torch.allclose(out[1, 5], moved[1, 5], atol=1e-3)


def test_prefix_windows_give_one_row_per_target_with_the_last_steps_before_it() -> None:
    w = prefix_windows_from_arrays([(np.arange(6), np.arange(6) % 3), (np.array([7]), np.array([0]))], max_len=3)
    assert len(w) == 5 and w.n_targets == 5  # a one-step sequence has no target
    assert [r.tolist() for r in w.items] == [[1], [1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5]]  # model rows: id + 1
    assert [t.tolist() for t in w.targets] == [[1], [2], [3], [4], [5]]
    assert [e.tolist() for e in w.events] == [[0], [0, 1], [0, 1, 2], [1, 2, 0], [2, 0, 1]]
    assert [e.tolist() for e in w.target_events] == [[1], [2], [0], [1], [2]]


@pytest.mark.parametrize("backbone", ["gpt2", "bsarec"])
def test_prefix_targets_train_on_each_rows_last_step(backbone: str) -> None:
    # the cycle of the test above: a row's target follows its LAST step (reading another step would predict 4 or 5)
    n = 10
    seqs = _cycle_sequences(n)
    overrides = dict(hidden=16, max_len=10, dropout=0.1, attn_dropout=0.0, lr=1e-2, max_epochs=3, min_epochs=3)
    cfg = bsarec_config(**overrides, text_dim=8, prefix_targets=True, prefix_batch_size=40)
    if backbone == "gpt2":
        cfg = StudentConfig(**overrides, prefix_targets=True, prefix_batch_size=64, ema_epochs=None)
    student = Student.fit(
        sequences=seqs,
        product_ids=list(range(n)),
        text_vectors=np.zeros((n, cfg.text_dim), np.float32),
        config=cfg,
        seed=0,
    )
    history = [HistoryEvent(p, "purchase", float(i)) for i, p in enumerate([3, 4, 5])]
    assert int(np.argmax(student.score(history, list(range(n))))) == 6
