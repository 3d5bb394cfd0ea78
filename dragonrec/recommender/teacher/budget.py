"""An hourly spend budget in Redis, shared by all workers, with reservations so parallel calls cannot overshoot.

Before a call, its worst-case cost (prompt estimated from its length, the full `max_tokens` answer) is reserved;
if the reservation takes the hour over the budget it is rolled back and the call refused. After the call the
reservation is settled to the cost computed from the token usage the API reports.

    >>> budget = SpendBudget(redis, "dragonrec:teacher:spend", limit_usd=1.0)
    >>> reservation = budget.reserve(0.002)   # None: refused, the hour's budget is spent
    >>> budget.settle(reservation, actual_usd=0.0013)

Hours are clock hours (UTC, by the worker's clock): a budget of $1/hour resets at the top of each hour.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import redis

# Amounts are stored as integer micro-dollars: INCRBY is exact, INCRBYFLOAT drifts over thousands of calls.
MICRO = 1_000_000
# The hour's key outlives its hour so a call that started at 10:59:59 can still settle into it.
KEY_TTL_S = 2 * 3600

_RESERVE = """
local spent = redis.call('INCRBY', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[3])
if spent > tonumber(ARGV[2]) then
  redis.call('DECRBY', KEYS[1], ARGV[1])
  return 0
end
return 1
"""


@dataclass(frozen=True, slots=True)
class Reservation:
    key: str
    micros: int


class SpendBudget:
    def __init__(self, redis_client: redis.Redis, key: str, *, limit_usd: float | None) -> None:
        self.redis = redis_client
        self.key = key
        self.limit_usd = limit_usd
        self._reserve = self.redis.register_script(_RESERVE)

    def _hour_key(self, now: float | None = None) -> str:
        return f"{self.key}:{int((time.time() if now is None else now) // 3600)}"

    def spent_usd(self) -> float:
        return int(self.redis.get(self._hour_key()) or 0) / MICRO

    def reserve(self, estimate_usd: float) -> Reservation | None:
        """Book `estimate_usd` against this hour; None when that would exceed the budget (refuse the call)."""
        key = self._hour_key()
        micros = max(0, round(estimate_usd * MICRO))
        if self.limit_usd is None:
            self.redis.incrby(key, micros)
            self.redis.expire(key, KEY_TTL_S)
            return Reservation(key, micros)
        limit = round(self.limit_usd * MICRO)
        if not self._reserve(keys=[key], args=[micros, limit, KEY_TTL_S]):
            return None
        return Reservation(key, micros)

    def settle(self, reservation: Reservation, actual_usd: float) -> None:
        """Replace the reservation by what the call really cost (0 when no tokens were billed)."""
        delta = max(0, round(actual_usd * MICRO)) - reservation.micros
        if delta:
            self.redis.incrby(reservation.key, delta)
