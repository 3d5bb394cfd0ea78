"""Adam for an embedding table with sparse gradients that moves every row as dense Adam would, at the cost of the
rows a step touches.

The student's sampled softmax touches a few thousand of the catalogue's id rows per step. `torch.optim.SparseAdam`
is lazy: a row's moments and weights change only on the steps whose gradient holds that row, so a row that goes
unsampled for k steps neither decays its moments nor keeps moving on its momentum, as dense Adam (which sees a zero
gradient there) would. On amazon_beauty that lazy update was the main gap between the sampled and the full-softmax
student (docs/operations.md, "why sampled lags"), while dense AdamW rewrites every row's weight and both moments at
every step (3 x 512 MB per step at 1M products and hidden 128: 84 sequences/s).

`SparseReplayAdam` keeps, per row, the step it was last brought up to date, and when a row is touched again first
replays the k steps it skipped: with a zero gradient dense Adam's moments only decay (m_s = b1^j m, v_s = b2^j v
after j such steps), so the k updates it would have made add up to

    sum_{j=1..k} lr * (b1^j m / c1(s_j)) / sqrt(b2^j v / c2(s_j)) = lr * m / sqrt(v) * sum_j r^j sqrt(c2(s_j)) / c1(s_j)

with r = b1 / sqrt(b2), s_j the step of the j-th skipped update and c1, c2 Adam's bias corrections: one
coefficient per row, from the row's last step and k alone. Adam's eps is left out of the replayed steps (it matters
only where sqrt(v) is ~1e-8, a row whose gradients were ~1e-8), and r^j is dropped beyond `horizon` steps (r^256 is
~1e-11 for the student's betas). Then the row takes the current step like dense Adam. `flush()` brings every row up
to date (before evaluating or saving the weights): dense work once per evaluation instead of once per step.

The replay has to happen before the forward pass reads a row, or the step's gradient is taken at weights that lag
dense Adam's by the skipped updates: `catch_up(rows)` before the forward, with the rows the step will read (the
student's inputs and sampled candidates); `step()` also catches up whatever rows its gradient holds, so a caller
that skips `catch_up` gets the replay one forward late.

Weight decay is not supported: the student puts embeddings in its no-decay group.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import torch

FLUSH_ROWS = 65_536  # rows per chunk of flush(): 65k x 128 float32 = 32 MB of temporaries, not the whole table's


class SparseReplayAdam(torch.optim.Optimizer):
    """Adam over parameters whose gradients are sparse (an nn.Embedding(sparse=True) table), equal to dense Adam
    (torch.optim.Adam, weight_decay 0) up to eps, at the cost of the touched rows.

        >>> opt = SparseReplayAdam([model.id_emb.weight], lr=1e-3, betas=(0.9, 0.98))
        >>> opt.catch_up(rows)               # the rows this step's forward pass will read
        >>> loss.backward(); opt.step()      # per step: only the rows in the gradient
        >>> opt.flush()                      # before reading the weights: every row as dense Adam has it
    """

    def __init__(
        self,
        params: Iterable[torch.Tensor],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        horizon: int = 256,
    ) -> None:
        b1, b2 = betas
        if not (0.0 <= b1 < 1.0 and 0.0 < b2 < 1.0) or b1 >= math.sqrt(b2):
            # b1 < sqrt(b2): the replayed updates shrink geometrically (r < 1), so a finite horizon holds them
            raise ValueError(f"betas must satisfy 0 <= b1 < sqrt(b2) < 1, not {betas}")
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps, "horizon": horizon})

    @staticmethod
    def _replay_coefficients(start: torch.Tensor, k: torch.Tensor, group: dict[str, Any]) -> torch.Tensor:
        """sum_{j=1..min(k, horizon)} r^j sqrt(c2(start + j)) / c1(start + j) per row (float64)."""
        b1, b2 = group["betas"]
        r = b1 / math.sqrt(b2)
        # rows share their last step (all rows touched at step s have start s): one coefficient per distinct start
        starts, inverse = torch.unique(start, return_inverse=True)
        ks = torch.zeros_like(starts).scatter_reduce_(0, inverse, k, reduce="amax", include_self=False)
        h = int(min(group["horizon"], int(ks.max())))
        j = torch.arange(1, h + 1, dtype=torch.float64, device=start.device)
        s = starts.to(torch.float64)[:, None] + j[None, :]
        terms = r**j * torch.sqrt(-torch.expm1(s * math.log(b2))) / -torch.expm1(s * math.log(b1))
        # cumulative: the coefficient of a row that skipped k steps is the sum of its start's first k terms
        cum = torch.cat([torch.zeros(len(starts), 1, dtype=torch.float64, device=start.device), terms.cumsum(1)], 1)
        return cum[inverse, k.clamp(max=h)]

    def _catch_up(self, p: torch.Tensor, state: dict[str, Any], rows: torch.Tensor, group: dict[str, Any]) -> None:
        """Apply to `rows` the updates dense Adam made to them on the steps since their last one (zero gradients
        there), and decay their moments as it did."""
        last: torch.Tensor = state["last"]
        k = state["step"] - last[rows]
        behind = k > 0
        if not bool(behind.any()):
            return
        rows, k = rows[behind], k[behind]
        b1, b2 = group["betas"]
        coef = self._replay_coefficients(last[rows], k, group).to(p.dtype)
        m, v = state["exp_avg"][rows], state["exp_avg_sq"][rows]
        # m / sqrt(v): where v is 0, m is too (both start at 0 and see the same gradients), so the update is 0
        p.index_add_(0, rows, m.div(v.sqrt().clamp_min(torch.finfo(p.dtype).tiny)).mul_(coef[:, None] * -group["lr"]))
        kf = k.to(p.dtype)[:, None]
        state["exp_avg"][rows] = m * torch.pow(b1, kf)
        state["exp_avg_sq"][rows] = v * torch.pow(b2, kf)
        last[rows] = state["step"]

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None) -> float | None:  # type: ignore[override]
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            b1, b2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                if not p.grad.is_sparse:
                    raise RuntimeError("SparseReplayAdam takes sparse gradients (nn.Embedding(sparse=True))")
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["exp_avg"] = torch.zeros_like(p)
                    state["exp_avg_sq"] = torch.zeros_like(p)
                    state["last"] = torch.zeros(p.shape[0], dtype=torch.long, device=p.device)
                grad = p.grad.coalesce()
                rows, g = grad.indices()[0], grad.values()
                self._catch_up(p, state, rows, group)  # up to date through the previous step
                state["step"] += 1
                t = state["step"]
                m = state["exp_avg"][rows].mul_(b1).add_(g, alpha=1 - b1)
                v = state["exp_avg_sq"][rows].mul_(b2).addcmul_(g, g, value=1 - b2)
                state["exp_avg"][rows] = m
                state["exp_avg_sq"][rows] = v
                denom = v.sqrt().div_(math.sqrt(1 - b2**t)).add_(group["eps"])
                p.index_add_(0, rows, m.div(denom).mul_(-group["lr"] / (1 - b1**t)))
                state["last"][rows] = t
        return loss

    @torch.no_grad()
    def catch_up(self, rows: torch.Tensor) -> None:
        """Bring these rows (of every parameter) up to date with the steps taken so far, before a forward pass
        reads them."""
        rows = torch.unique(rows)
        for group in self.param_groups:
            for p in group["params"]:
                if self.state[p]:
                    self._catch_up(p, self.state[p], rows.to(p.device), group)

    @torch.no_grad()
    def flush(self) -> None:
        """Bring every row up to date with the steps taken so far (what dense Adam's weights are now)."""
        for group in self.param_groups:
            for p in group["params"]:
                state = self.state[p]
                if not state:
                    continue
                for s in range(0, p.shape[0], FLUSH_ROWS):
                    rows = torch.arange(s, min(s + FLUSH_ROWS, p.shape[0]), device=p.device)
                    self._catch_up(p, state, rows, group)
