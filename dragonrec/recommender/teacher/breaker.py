"""A circuit breaker whose state lives in Redis, so every worker process and machine sees the same circuit.

Closed: calls go through; each failed call (after its retries) increments a counter, a success resets it.
Open: after `threshold` failures in a row; calls fail fast, with no HTTP request, for `cooldown_s`.
Half-open: once the cooldown has passed, exactly one worker gets to send a probe (a Redis `SET NX` lease); its
success closes the circuit, its failure opens it for another cooldown. Everyone else keeps failing fast meanwhile.

The cooldown is a Redis key expiry, not a timestamp, so worker clocks do not need to agree.
(Pattern: Nygard, "Release It!", 2007; Fowler, "CircuitBreaker", 2014.)

    >>> breaker = CircuitBreaker(redis, "dragonrec:teacher:breaker:abc", threshold=5, cooldown_s=60, probe_ttl_s=31)
    >>> decision = breaker.allow()         # "closed", "probe" or None (open: fail fast)
    >>> breaker.record_success() / breaker.record_failure()
"""

from __future__ import annotations

from typing import Any, Literal

import redis

Decision = Literal["closed", "probe"]

# INCR the failure count and, at the threshold, open the circuit and release any probe lease: in one round trip,
# so two workers failing together cannot both miss the threshold.
_RECORD_FAILURE = """
local n = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
if n >= tonumber(ARGV[1]) then
  redis.call('SET', KEYS[2], '1', 'PX', ARGV[2])
  redis.call('DEL', KEYS[3])
end
return n
"""


class CircuitBreaker:
    def __init__(
        self,
        redis_client: redis.Redis,
        key: str,
        *,
        threshold: int,
        cooldown_s: float,
        probe_ttl_s: float,
    ) -> None:
        self.redis = redis_client
        self.failures_key = f"{key}:failures"
        self.open_key = f"{key}:open"
        self.probe_key = f"{key}:probe"
        self.threshold = max(1, threshold)
        self.cooldown_ms = max(1, int(cooldown_s * 1000))
        # A probe whose worker died must not block the circuit forever: the lease expires after one attempt's time.
        self.probe_ttl_ms = max(1, int(probe_ttl_s * 1000))
        # A streak of failures is "consecutive" only while it is recent: forget it after ten cooldowns (>= 1 h).
        self.failures_ttl_ms = max(self.cooldown_ms * 10, 3_600_000)
        self._record_failure = self.redis.register_script(_RECORD_FAILURE)

    def allow(self) -> Decision | None:
        """`"closed"`: call normally; `"probe"`: half-open, this caller holds the single probe; None: fail fast."""
        opened, failures = self._open_and_failures()
        if opened:
            return None
        if int(failures or 0) < self.threshold:
            return "closed"
        if self.redis.set(self.probe_key, "1", nx=True, px=self.probe_ttl_ms):
            return "probe"
        return None

    def _open_and_failures(self) -> list[Any]:
        """[open flag, failure count] in one round trip. Not chained: redis-py's hints give a pipeline's commands
        their results' types, not the pipeline's."""
        pipe = self.redis.pipeline()
        pipe.exists(self.open_key)
        pipe.get(self.failures_key)
        return pipe.execute()

    def release_probe(self) -> None:
        """Give the half-open probe back unused (the call was refused before any request)."""
        self.redis.delete(self.probe_key)

    def record_success(self) -> None:
        self.redis.delete(self.failures_key, self.open_key, self.probe_key)

    def record_failure(self) -> int:
        """Count one failed call; returns the consecutive failure count."""
        keys = [self.failures_key, self.open_key, self.probe_key]
        return int(self._record_failure(keys=keys, args=[self.threshold, self.cooldown_ms, self.failures_ttl_ms]))

    def state(self) -> Literal["closed", "open", "half_open"]:
        """For admin pages and tests; `allow` is what calls use."""
        opened, failures = self._open_and_failures()
        if opened:
            return "open"
        return "half_open" if int(failures or 0) >= self.threshold else "closed"
