"""The objective of one training step, shared by the nightly training (train.py) and the hourly update (online.py):
the next-item cross-entropy (full, or sampled with logQ correction above `sampled_above_items`), the teacher's
listwise distillation term, and the device and precision they run at. See train.py for the loss as a whole.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import torch

from dragonrec.recommender.ml.data import TeacherLabel, as_steps, encode_histories, pad_right
from dragonrec.recommender.ml.losses import full_softmax_ce, mixed_sample_log_q, sampled_softmax_ce
from dragonrec.recommender.ml.model import StudentConfig, StudentModel

log = logging.getLogger(__name__)


def bf16_available(device: torch.device | None = None) -> bool:
    if device is not None and device.type == "cuda":
        return bool(torch.cuda.is_bf16_supported())
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except Exception:  # pragma: no cover - older builds
        return False


def resolve_device(name: str = "auto") -> torch.device:
    """ "auto": the first CUDA GPU when torch sees one, else the CPU. A named CUDA device that is not there falls
    back to the CPU with a warning: a training job scheduled on a machine without its GPU still trains."""
    if name in ("", "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        log.warning("student device %r asked for but torch sees no GPU: training on the CPU", name)
        return torch.device("cpu")
    return device


def use_sampled_softmax(cfg: StudentConfig, n_items: int) -> bool:
    if cfg.loss not in ("full", "sampled", "auto"):
        raise ValueError(f"StudentConfig.loss must be 'full', 'sampled' or 'auto', not {cfg.loss!r}")
    return cfg.loss == "sampled" or (cfg.loss == "auto" and n_items > cfg.sampled_above_items)


class NextItemLoss:
    """The next-item CE of one step, full or sampled (use_sampled_softmax), shared by training and the online
    update so the hourly job takes the same path as the nightly one."""

    def __init__(
        self,
        cfg: StudentConfig,
        *,
        n_items: int,
        target_counts: np.ndarray | None,
        device: torch.device,
        seed: int,
        bf16: bool | None = None,
    ) -> None:
        self.sampled = use_sampled_softmax(cfg, n_items)
        self.n_items = n_items
        self.n_negatives = min(cfg.n_negatives, n_items)
        if cfg.logq_correction not in ("all", "negatives", "drawn"):
            raise ValueError(
                f"StudentConfig.logq_correction must be 'all', 'negatives' or 'drawn', not {cfg.logq_correction!r}"
            )
        self.correct_positive = cfg.logq_correction == "all"
        self.targets_exact = cfg.logq_correction == "drawn"
        self.bf16 = (cfg.bf16 if bf16 is None else bf16) and bf16_available(device)
        counts = torch.as_tensor(np.zeros(n_items) if target_counts is None else target_counts, dtype=torch.float64)
        self.target_share = (counts / counts.sum().clamp(min=1)).to(device)
        # the negatives' proposal (StudentConfig.negatives_popularity_power); None = uniform, drawn without a table
        power = cfg.negatives_popularity_power
        self.draw_prob: torch.Tensor | None = None
        self._draw_cdf: torch.Tensor | None = None
        if self.sampled and power:
            weights = (counts + 1.0) ** power
            self.draw_prob = (weights / weights.sum()).to(device)
            # inverse-CDF draws: K binary searches a step instead of torch.multinomial's pass over the catalogue
            self._draw_cdf = torch.cumsum(self.draw_prob, 0)
        self.generator = torch.Generator(device=device)
        self.generator.manual_seed(seed)
        self.device = device

    def draw(self, targets: torch.Tensor) -> torch.Tensor:
        """The sampled softmax's candidates for a step with these targets (dense ids, sorted, unique): the targets
        plus `n_negatives` draws (uniform, or shaped by popularity: StudentConfig.negatives_popularity_power). Drawn
        before the forward pass when the caller must know which item rows the step reads (train.py:
        SparseReplayAdam.catch_up)."""
        if self._draw_cdf is None:
            drawn = torch.randint(
                self.n_items, (self.n_negatives,), generator=self.generator, device=self.device, dtype=torch.long
            )
        else:
            u = torch.rand(self.n_negatives, generator=self.generator, device=self.device, dtype=torch.float64)
            drawn = torch.searchsorted(self._draw_cdf, u * self._draw_cdf[-1]).clamp_(max=self.n_items - 1)
        candidates: torch.Tensor = torch.unique(torch.cat([targets, drawn]))  # sorted: a target's row by bisection
        return candidates

    def log_q(self, candidates: torch.Tensor, *, n_targets: int, targets: torch.Tensor | None = None) -> torch.Tensor:
        """log P(each of `candidates` is among a step's candidates), for a step of `n_targets` target positions:
        the logQ correction of the sampled softmax, for the proposal `draw` uses.

        With `targets` (logq_correction "drawn"), the probability is taken given the step's batch: its targets are
        among the candidates for certain (log 1 = 0: their terms of the partition sum are exact), every other
        candidate is there by the draws alone. Both estimates of the partition sum are unbiased; this one does not
        divide a target of another position of the same sequence (an item the shopper did buy, close to the
        query) by its marginal inclusion probability, which weighs it up to ~1 / q times in the sum and pushes the
        shopper's own items down harder than the full softmax does."""
        log_q = mixed_sample_log_q(
            self.target_share[candidates],
            n_targets=n_targets if targets is None else 0,  # given the batch: the draws alone bring a non-target
            n_drawn=self.n_negatives,
            draw_prob=1.0 / self.n_items if self.draw_prob is None else self.draw_prob[candidates],
        )
        return log_q if targets is None else log_q.masked_fill(torch.isin(candidates, targets), 0.0)

    def __call__(
        self,
        model: StudentModel,
        h: torch.Tensor,
        targets: torch.Tensor,
        weights: torch.Tensor,
        M: torch.Tensor | None,
        candidates: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """sum_i weights[i] * CE(h[i] -> targets[i]) (targets are dense ids). M: the full item matrix (full softmax
        only; None for sampled, which computes the candidates' rows itself). candidates: draw(targets), when the
        caller drew them already."""
        if not self.sampled:
            assert M is not None
            return full_softmax_ce(h, M[1:], targets, weights, bf16=self.bf16)
        if candidates is None:
            candidates = self.draw(targets)
        return sampled_softmax_ce(
            h,
            model.item_rows(candidates + 1),
            torch.searchsorted(candidates, targets),
            weights,
            log_q=self.log_q(candidates, n_targets=len(targets), targets=targets if self.targets_exact else None),
            correct_positive=self.correct_positive,
            bf16=self.bf16,
        )


class TeacherBatches:
    """Teacher judgments as padded tensors, handed out so that each is used once per epoch."""

    def __init__(self, labels: Sequence[TeacherLabel], *, max_len: int, n_items: int, tau: float) -> None:
        labels = [lb for lb in labels if lb.candidate_ids and lb.history]
        self.n = len(labels)
        if not self.n:
            return
        self.items, self.events, self.lengths = encode_histories(
            [as_steps(lb.history) for lb in labels], max_len=max_len
        )
        cand = [np.asarray(lb.candidate_ids, dtype=np.int64) for lb in labels]
        if any(((c < 0) | (c >= n_items)).any() for c in cand):
            raise ValueError("teacher candidate ids must be dense ids in [0, n_items)")
        self.cands = pad_right([c + 1 for c in cand])  # model rows, 0 = padding
        scores = torch.zeros(self.cands.shape)
        for i, lb in enumerate(labels):
            scores[i, : len(lb.scores)] = torch.tensor(lb.scores, dtype=torch.float32)
        mask = self.cands != 0
        self.mask = mask
        # Teacher distribution, computed once: softmax(score / tau) over the real candidates.
        self.p = torch.softmax((scores / tau).masked_fill(~mask, float("-inf")), dim=1)
        self.conf = torch.tensor([float(lb.confidence) for lb in labels], dtype=torch.float32)

    def to(self, device: torch.device) -> None:
        for name in ("items", "events", "lengths", "cands", "mask", "p", "conf"):
            setattr(self, name, getattr(self, name).to(device))

    def epoch_slices(self, n_steps: int, rng: np.random.Generator) -> list[np.ndarray]:
        if not self.n:
            return [np.zeros(0, dtype=np.int64)] * n_steps
        order = rng.permutation(self.n)
        return np.array_split(order, n_steps)


def kd_loss(model: StudentModel, tb: TeacherBatches, idx: np.ndarray, M: torch.Tensor | None) -> torch.Tensor:
    """M: the full item matrix, or None to compute only the rows used (sampled training)."""
    t = torch.from_numpy(idx).to(tb.lengths.device)
    lengths = tb.lengths[t]
    L = int(lengths.max())
    u = model.user_vectors(tb.items[t, :L], tb.events[t, :L], lengths, M)
    cands = tb.cands[t]
    vectors = M[cands] if M is not None else model.item_rows(cands)
    s = torch.einsum("bd,bcd->bc", u, vectors).masked_fill(~tb.mask[t], float("-inf"))
    log_q = torch.log_softmax(s, dim=1)
    p = tb.p[t]
    kl = (torch.xlogy(p, p) - p * log_q.masked_fill(~tb.mask[t], 0.0)).sum(1)
    return (kl * tb.conf[t]).sum()
