"""Is a newly promoted model doing worse on live traffic than the one it replaced? Pure functions over counts.

    >>> test = proportion_worse(new_successes=40, new_n=1000, old_successes=80, old_n=1000, margin=0.05, alpha=0.05)
    >>> test.worse, test.p_value

A one-sided two-proportion test with a margin (a non-inferiority test, e.g. Chow, Shao & Wang, "Sample Size
Calculations in Clinical Research", ch. 4.2): H0 "the new rate is at least (1 - margin) x the old rate" against
H1 "it is below that". The statistic is the unpooled Wald z of new - (1 - margin) x old; unpooled because under
this H0 the two rates need not be equal, which is what pooling assumes. The units should be independent: served
lists (did the list get a click), not slots of one list, which share a shopper and a moment.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class ProportionTest:
    new_rate: float
    old_rate: float
    z: float  # > 0 when the new rate is below the margin-adjusted old one
    p_value: float  # one-sided: the chance of a gap at least this large if the new one were not worse
    worse: bool

    def as_dict(self) -> dict[str, float | bool]:
        return {
            "new_rate": self.new_rate,
            "old_rate": self.old_rate,
            "z": self.z,
            "p_value": self.p_value,
            "worse": self.worse,
        }


def proportion_worse(
    *, new_successes: int, new_n: int, old_successes: int, old_n: int, margin: float, alpha: float
) -> ProportionTest:
    """Whether the new rate is significantly below (1 - `margin`) x the old rate at level `alpha` (one-sided).
    `margin` is relative (0.05: "more than 5% worse"); both samples must be non-empty."""
    if new_n <= 0 or old_n <= 0:
        raise ValueError("both versions need at least one served list")
    if not 0.0 <= margin < 1.0 or not 0.0 < alpha < 1.0:
        raise ValueError("margin must be in [0, 1) and alpha in (0, 1)")
    p_new, p_old = new_successes / new_n, old_successes / old_n
    keep = 1.0 - margin
    gap = keep * p_old - p_new
    se = math.sqrt(p_new * (1 - p_new) / new_n + keep**2 * p_old * (1 - p_old) / old_n)
    # se 0: both rates are 0 or 1, so there is no sampling noise to weigh the gap against
    z = gap / se if se > 0 else (math.copysign(math.inf, gap) if gap else 0.0)
    p_value = 0.5 * math.erfc(z / math.sqrt(2.0))
    return ProportionTest(new_rate=p_new, old_rate=p_old, z=z, p_value=p_value, worse=p_value < alpha)
