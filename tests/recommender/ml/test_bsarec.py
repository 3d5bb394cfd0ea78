"""BSARec's frequency filter (ml/bsarec.py) and the BSARec backbone on the student's trainer."""

from __future__ import annotations

import numpy as np
import torch

from dragonrec.recommender.core.types import HistoryEvent
from dragonrec.recommender.ml import Student
from dragonrec.recommender.ml.bsarec import FrequencyFilter
from dragonrec.recommender.ml.model import bsarec_config


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


def test_bsarec_trains_on_the_student_trainer_and_learns_a_sequence_pattern() -> None:
    # every user walks a cycle 0 -> 1 -> ... -> 9 -> 0 from a random start; the next item is always the successor
    rng = np.random.default_rng(0)
    n = 10
    seqs = []
    for _ in range(200):
        start = int(rng.integers(n))
        seqs.append([HistoryEvent((start + i) % n, "purchase", float(i)) for i in range(int(rng.integers(4, 9)))])
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
