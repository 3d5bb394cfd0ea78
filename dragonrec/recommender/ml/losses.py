"""The student's next-item losses: full-softmax cross-entropy over the whole catalogue (fused and chunked for
CPUs), and sampled softmax with logQ correction for catalogues where the full one does not fit a step.

Full softmax:

The (positions x catalogue) logit matrix is the bulk of the student's training cost. Autograd's
matmul -> log_softmax -> nll chain writes and re-reads it several times (and CPU log_softmax_backward is slow); here
it is computed in row chunks that stay in cache: forward keeps only each row's log-sum-exp, backward recomputes the
chunk's logits and forms softmax - onehot in place. Matmuls run in bfloat16 when asked (AMX / AVX512-BF16 CPUs),
the softmax in float32. Same maths as F.cross_entropy(h @ M.T, targets, reduction="none") weighted.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import torch

CHUNK = 256  # rows per chunk: 256 x 12k float32 logits = 12 MB, about what stays hot in L2/L3 on 2 cores


class _FullSoftmaxCE(torch.autograd.Function):
    @staticmethod
    def forward(
        ctx: Any, h: torch.Tensor, M: torch.Tensor, targets: torch.Tensor, weights: torch.Tensor, bf16: bool
    ) -> torch.Tensor:
        mm_dtype = torch.bfloat16 if bf16 else h.dtype
        hc, Mc = h.detach().to(mm_dtype), M.detach().to(mm_dtype)
        lse = torch.empty(h.shape[0], dtype=torch.float32, device=h.device)
        tgt = torch.empty(h.shape[0], dtype=torch.float32, device=h.device)
        for s in range(0, h.shape[0], CHUNK):
            logits = (hc[s : s + CHUNK] @ Mc.T).float()
            lse[s : s + CHUNK] = torch.logsumexp(logits, dim=1)
            tgt[s : s + CHUNK] = logits.gather(1, targets[s : s + CHUNK, None]).squeeze(1)
        ctx.save_for_backward(hc, Mc, targets, weights, lse)
        ctx.dtype = h.dtype
        return ((lse - tgt) * weights).sum()

    @staticmethod
    def backward(ctx: Any, g: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, None, None, None]:
        hc, Mc, targets, weights, lse = ctx.saved_tensors
        grad_h = torch.empty(hc.shape, dtype=torch.float32, device=hc.device)
        grad_M = torch.zeros(Mc.shape, dtype=torch.float32, device=hc.device)
        scale = weights * g
        for s in range(0, hc.shape[0], CHUNK):
            e = min(s + CHUNK, hc.shape[0])
            p = (hc[s:e] @ Mc.T).float()
            p.sub_(lse[s:e, None]).exp_()
            p[torch.arange(e - s, device=p.device), targets[s:e]] -= 1.0
            p.mul_(scale[s:e, None])
            pc = p.to(hc.dtype)
            grad_h[s:e] = (pc @ Mc).float()
            grad_M.addmm_(pc.T, hc[s:e]) if pc.dtype == torch.float32 else grad_M.add_((pc.T @ hc[s:e]).float())
        return grad_h.to(ctx.dtype), grad_M.to(ctx.dtype), None, None, None


def full_softmax_ce(
    h: torch.Tensor, M: torch.Tensor, targets: torch.Tensor, weights: torch.Tensor, *, bf16: bool = False
) -> torch.Tensor:
    """sum_i weights[i] * CE(softmax(h[i] @ M.T), targets[i]). h: (N, d), M: (n, d), targets: (N,) in [0, n)."""
    # autograd.Function.apply is unannotated in torch; _FullSoftmaxCE.forward says what it returns
    apply = cast(Callable[..., torch.Tensor], _FullSoftmaxCE.apply)
    return apply(h, M, targets, weights.float(), bf16)


def sampled_softmax_ce(
    h: torch.Tensor,
    candidates: torch.Tensor,
    target_index: torch.Tensor,
    weights: torch.Tensor,
    *,
    log_q: torch.Tensor | None = None,
    correct_positive: bool = True,
    bf16: bool = False,
) -> torch.Tensor:
    """sum_i weights[i] * CE over a sampled candidate set instead of the whole catalogue.

    h: (N, d) hidden states; candidates: (C, d) vectors of the step's candidate items (every target among them, plus
    sampled negatives); target_index: (N,) row of each target in `candidates`; log_q: (C,) log of each candidate's
    probability of being in the sample. Subtracting log_q from the logits (Bengio & Senecal 2008; "logQ correction",
    Yi et al., RecSys 2019) makes the sampled softmax an estimate of the full one: without it, items that are in
    the sample more often than the others (popular ones, drawn in-batch as other positions' targets) are pushed
    down once per draw, and the model learns to under-rank them. Without log_q (or with a constant one) and the
    whole catalogue as candidates, this is exactly the full softmax (with the same `bf16`).

    correct_positive=False leaves each row's own target uncorrected ("Correcting the LogQ Correction", Khrylchenko
    et al., RecSys 2025): the target is in the row's candidates because it is the target, not because it was
    drawn, so dividing its term by its inclusion probability counts a rare target as 1 / q times its own mass in
    both numerator and denominator; its probability is overestimated and its gradient fades before the model ranks it
    high. The negatives keep their correction (an estimate of the rest of the partition sum).
    """
    # bf16: the (positions x candidates) product in bfloat16, both ways (autograd casts the gradients back), as the
    # full softmax computes its (positions x catalogue) one: same precision, so the two losses differ only in what
    # they sum over
    mm = torch.bfloat16 if bf16 else h.dtype
    logits = (h.to(mm) @ candidates.to(mm).T).float()
    if log_q is not None:
        log_q = log_q.float()
        logits = logits - log_q[None, :]
        if not correct_positive:
            # in place on a fresh tensor: the subtraction's backward does not need its output
            rows = torch.arange(len(target_index), device=logits.device)
            logits[rows, target_index] += log_q[target_index]
    ce = torch.nn.functional.cross_entropy(logits, target_index, reduction="none")
    return (ce * weights.float()).sum()


def mixed_sample_log_q(
    target_share: torch.Tensor, *, n_targets: int, n_drawn: int, draw_prob: torch.Tensor | float
) -> torch.Tensor:
    """log P(item j is among a step's candidates) when the candidates are the step's `n_targets` targets (drawn
    in proportion to `target_share`, each item's share of all training targets) plus `n_drawn` draws with
    replacement, each of item j with probability `draw_prob` (1 / n_items when uniform): Mixed Negative Sampling
    (Yang et al., WWW 2020). The probability is 1 - (1 - p_j)^n_targets * (1 - r_j)^n_drawn, clamped away from 0."""
    miss_batch = torch.exp(n_targets * torch.log1p(-target_share.clamp(max=1 - 1e-7)))
    r = torch.as_tensor(draw_prob, dtype=torch.float64, device=target_share.device)
    miss_drawn = torch.exp(n_drawn * torch.log1p(-r.clamp(max=1 - 1e-7)))
    return torch.log((1.0 - miss_batch * miss_drawn).clamp(min=1e-12))
