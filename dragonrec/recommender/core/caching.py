"""One small per-process cache for what serving builds once and reuses across requests: the catalog snapshot, the
loaded student, merchant rules, the embedder, the teacher client, the running experiments.

Each web process keeps its own copy (no pickling, no network), refreshed after a time-to-live, so a merchant's edit
or a newly active model shows within seconds without a restart. Thread-safe: the threads of a process that race to
the first use build the value once, the others wait for it.

    >>> rules = ProcessCache[str, RerankRules]("merchant rules", ttl_s=lambda: recommender_settings.SNAPSHOT_TTL_S)
    >>> rules.get("home", lambda previous: load_rules("home"))   # built once, then again after the TTL
    >>> process_caches_reset()                                     # every cache forgets (tests)

`build` receives the value it replaces (None on first use), so a cache can revalidate instead of rebuilding: the
snapshot keeps its previous value when the catalog's version did not change.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


@dataclass
class _Entry(Generic[V]):
    value: V
    built_at: float  # monotonic time the build started: what it saw is at least this old


class ProcessCache(Generic[K, V]):
    """Values by key, each rebuilt once older than `ttl_s` seconds (None: kept until reset; a callable is read on
    every lookup, so `override_settings` in tests takes effect at once).

    `stale_while_refresh`: while one thread rebuilds an expired value, the others keep getting the previous one
    instead of queueing behind the rebuild (the catalog snapshot takes seconds to build for a large catalog). Only a
    key with no value yet makes its callers wait.

    `survives_reset`: `process_caches_reset` leaves this cache alone (a loaded model that no test data changes).
    A build that raises caches nothing: the next lookup tries again.
    """

    def __init__(
        self,
        name: str,
        *,
        ttl_s: float | Callable[[], float] | None = None,
        stale_while_refresh: bool = False,
        survives_reset: bool = False,
    ) -> None:
        self.name = name
        self._ttl_s = ttl_s
        self.stale_while_refresh = stale_while_refresh
        self.survives_reset = survives_reset
        self._lock = threading.Lock()  # guards the dicts below; never held during a build
        self._entries: dict[K, _Entry[V]] = {}
        self._building: dict[K, threading.Lock] = {}  # one lock per key, held by the thread that builds it
        self._generation = 0  # bumped by reset, so a build that started before a reset does not store its value
        _registry.add(self)

    def ttl(self) -> float | None:
        return self._ttl_s() if callable(self._ttl_s) else self._ttl_s

    def _fresh(self, entry: _Entry[V], now: float) -> bool:
        ttl = self.ttl()
        return ttl is None or now - entry.built_at < ttl

    def get(self, key: K, build: Callable[[V | None], V]) -> V:
        """The cached value of `key`, built (from the previous value, or None) when missing or expired."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and self._fresh(entry, time.monotonic()):
                return entry.value
            building = self._building.setdefault(key, threading.Lock())
        if entry is not None and self.stale_while_refresh:
            if not building.acquire(blocking=False):
                return entry.value  # another thread is rebuilding: serve what it replaces meanwhile
        else:
            building.acquire()
        try:
            with self._lock:
                entry = self._entries.get(key)  # the thread we waited for may have built it
                now = time.monotonic()
                if entry is not None and self._fresh(entry, now):
                    return entry.value
                generation = self._generation
            value = build(entry.value if entry is not None else None)
            with self._lock:
                if generation == self._generation:
                    self._entries[key] = _Entry(value, now)
            return value
        finally:
            building.release()

    def peek(self, key: K) -> V | None:
        """The value as last built, without checking its age or building it."""
        with self._lock:
            entry = self._entries.get(key)
        return entry.value if entry is not None else None

    def reset(self) -> None:
        """Forget every value; builds in flight do not store theirs."""
        with self._lock:
            self._entries.clear()
            self._generation += 1


class TtlMemo(Generic[K, V]):
    """A bounded, thread-safe memo of values that are exact for their key but may go stale with time: each lives
    `ttl_s` seconds at most, the least recently used go first past `max_entries`. Serving's scored candidates
    (core.pipeline.ScoredMemo) live in one, held by the catalog snapshot they were computed from, so new catalog
    data drops them all at once; a student's latest user vectors live in one that never expires (ml.student).
    Two threads that miss the same key both compute it (a list is milliseconds): no waiting, no lock held during a
    build."""

    def __init__(self, *, ttl_s: float, max_entries: int) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self.hits = 0
        self.misses = 0
        self._lock = threading.Lock()
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()

    def get(self, key: K, build: Callable[[], V]) -> V:
        now = time.monotonic()
        with self._lock:
            found = self._entries.get(key)
            if found is not None and now - found[0] < self.ttl_s:
                self._entries.move_to_end(key)
                self.hits += 1
                return found[1]
            self.misses += 1
        value = build()
        with self._lock:
            self._entries[key] = (now, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return value

    def __getstate__(self) -> dict[str, float]:
        """A copy (deepcopy, pickle) is an empty memo with the same bounds: a lock cannot be copied, and what the
        memo holds answers the original's owner (a student copied to be tuned has other weights)."""
        return {"ttl_s": self.ttl_s, "max_entries": self.max_entries}

    def __setstate__(self, state: dict[str, float]) -> None:
        self.__init__(ttl_s=state["ttl_s"], max_entries=int(state["max_entries"]))  # type: ignore[misc]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


_registry: weakref.WeakSet[ProcessCache[Any, Any]] = weakref.WeakSet()


def process_caches_reset() -> None:
    """Empty every process cache except those that survive resets (tests: state must not leak between tests)."""
    for cache in list(_registry):
        if not cache.survives_reset:
            cache.reset()
