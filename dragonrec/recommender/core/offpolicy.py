"""Off-policy estimates of a candidate policy's click rate from the reward log. Pure functions over arrays.

    >>> est = snips(reward=r, pscore=p_logged, target_pscore=p_target, lists=list_ids)
    >>> est.value, est.ci           # clicks per shown slot under the target policy, with a 95% interval

The log has one row per shown (list, position, item): `reward` (1 = clicked), `pscore` = the logging policy's
probability of putting that item at that position for that request (the propensity served lists record), and
`target_pscore` = the candidate policy's probability of the same placement. Under the item-position model
(a click depends on the item and its position only; Li et al., WSDM 2018 "Offline evaluation of ranking
policies with click models"), each slot is a one-step bandit and the per-slot importance weights are unbiased.
Estimators follow Open Bandit Pipeline's names and signatures:

- `ips`: inverse propensity scoring (Horvitz & Thompson 1952), unbiased, high variance;
- clipped IPS (`ips(..., clip=c)`): weights capped at c, biased low but far steadier (YouTube capped at e^3,
  Chen et al., WSDM 2019);
- `snips`: self-normalised IPS (Swaminathan & Joachims, NeurIPS 2015), a ratio estimator: tiny bias, much less
  variance when weights are uneven;
- `dr`: doubly robust (Dudik, Langford & Li, ICML 2011): a reward model's prediction plus an IPS correction of
  its error; unbiased if either the propensities or the model are right.

Confidence intervals treat lists (requests) as the independent units, since slots of one list share a shopper:
a CLT interval on per-list sums for IPS and DR, the delta method for the SNIPS ratio.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

Z95 = 1.959963984540054


@dataclass(frozen=True)
class Estimate:
    value: float  # estimated reward (clicks) per shown slot under the target policy
    ci: tuple[float, float]  # 95% interval
    n_lists: int
    n_slots: int
    max_weight: float  # the largest importance weight used: a glance at how far apart the policies are

    def as_dict(self) -> dict[str, object]:
        """JSON-safe (stored in JSON columns, which refuse infinities): an interval with a single list is None."""
        ci = list(self.ci) if all(np.isfinite(self.ci)) else None
        return {"value": self.value, "ci": ci, "n_lists": self.n_lists, "n_slots": self.n_slots}


def _as_arrays(*arrays: object) -> list[np.ndarray]:
    out = [np.asarray(a, dtype=np.float64) for a in arrays]
    n = len(out[0])
    if any(len(a) != n for a in out):
        raise ValueError("reward log arrays must have the same length")
    if n == 0:
        raise ValueError("the reward log is empty: nothing to estimate from")
    return out


def _weights(pscore: np.ndarray, target_pscore: np.ndarray, clip: float | None) -> np.ndarray:
    if np.any(pscore <= 0):
        raise ValueError("every logged propensity must be > 0 (a shown item had a chance to be shown)")
    w = target_pscore / pscore
    return np.asarray(np.minimum(w, clip)) if clip is not None else np.asarray(w)


def _per_list_sums(values: np.ndarray, lists: np.ndarray) -> np.ndarray:
    _, inverse = np.unique(lists, return_inverse=True)
    return np.bincount(inverse, weights=values)


def _mean_interval(list_sums: np.ndarray, n_slots: int) -> tuple[float, tuple[float, float]]:
    """Per-slot value and CI from per-list sums (slots per list are fixed by the log, so the mean over lists
    divided by slots-per-list is the per-slot value)."""
    n_lists = len(list_sums)
    slots_per_list = n_slots / n_lists
    mean = float(list_sums.mean()) / slots_per_list
    se = float(list_sums.std(ddof=1)) / np.sqrt(n_lists) / slots_per_list if n_lists > 1 else float("inf")
    return mean, (mean - Z95 * se, mean + Z95 * se)


def ips(*, reward: object, pscore: object, target_pscore: object, lists: object, clip: float | None = None) -> Estimate:
    """Inverse propensity scoring; `clip` caps the weights (clipped IPS)."""
    r, p, q = _as_arrays(reward, pscore, target_pscore)
    lists_arr = np.asarray(lists)
    w = _weights(p, q, clip)
    value, ci = _mean_interval(_per_list_sums(w * r, lists_arr), len(r))
    return Estimate(value, ci, len(np.unique(lists_arr)), len(r), float(w.max(initial=0.0)))


def snips(*, reward: object, pscore: object, target_pscore: object, lists: object) -> Estimate:
    """Self-normalised IPS: sum(w r) / sum(w), interval by the delta method over lists."""
    r, p, q = _as_arrays(reward, pscore, target_pscore)
    lists_arr = np.asarray(lists)
    w = _weights(p, q, None)
    a = _per_list_sums(w * r, lists_arr)  # numerator per list
    b = _per_list_sums(w, lists_arr)  # denominator per list
    n = len(a)
    value = float(a.sum() / b.sum()) if b.sum() > 0 else 0.0
    if n > 1 and b.mean() > 0:
        # Var(A/B) ~ (Var A - 2 R Cov(A,B) + R^2 Var B) / (n mean(B)^2)
        cov = np.cov(a, b, ddof=1)
        var = (cov[0, 0] - 2 * value * cov[0, 1] + value**2 * cov[1, 1]) / (n * b.mean() ** 2)
        se = float(np.sqrt(max(var, 0.0)))
    else:
        se = float("inf")
    return Estimate(value, (value - Z95 * se, value + Z95 * se), n, len(r), float(w.max(initial=0.0)))


def dr(
    *,
    reward: object,
    pscore: object,
    target_pscore: object,
    lists: object,
    predicted_logged: object,
    predicted_target: object,
    clip: float | None = None,
) -> Estimate:
    """Doubly robust. `predicted_logged`: the reward model's click probability for the logged item at its position;
    `predicted_target`: the expected reward model value of the target policy at that slot (sum over items of
    P_target(item at this slot) x predicted click), computed by the caller who knows the target's full ranking."""
    r, p, q, m_logged, m_target = _as_arrays(reward, pscore, target_pscore, predicted_logged, predicted_target)
    lists_arr = np.asarray(lists)
    w = _weights(p, q, clip)
    per_slot = m_target + w * (r - m_logged)
    value, ci = _mean_interval(_per_list_sums(per_slot, lists_arr), len(r))
    return Estimate(value, ci, len(np.unique(lists_arr)), len(r), float(w.max(initial=0.0)))


def position_ctr_model(
    *, reward: object, positions: object, items: object, prior_strength: float = 10.0
) -> dict[tuple[int, int], float]:
    """A simple reward model for DR: click rate per (item, position) from the log, shrunk towards the position's
    rate (empirical Bayes with `prior_strength` pseudo-impressions), so rare pairs do not predict 0 or 1."""
    r = np.asarray(reward, dtype=np.float64)
    pos = np.asarray(positions, dtype=np.int64)
    its = np.asarray(items, dtype=np.int64)
    by_pos: dict[int, tuple[float, int]] = {}
    for k in np.unique(pos):
        mask = pos == k
        by_pos[int(k)] = (float(r[mask].sum()), int(mask.sum()))
    model: dict[tuple[int, int], float] = {}
    pairs: dict[tuple[int, int], list[float]] = {}
    for item, k, reward_value in zip(its.tolist(), pos.tolist(), r.tolist(), strict=True):
        pairs.setdefault((item, k), []).append(reward_value)
    for (item, k), values in pairs.items():
        clicks, shown = by_pos[k]
        prior = clicks / shown if shown else 0.0
        model[(item, k)] = (sum(values) + prior_strength * prior) / (len(values) + prior_strength)
    return model
