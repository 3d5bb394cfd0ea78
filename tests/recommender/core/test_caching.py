"""The process cache behind serving's per-process state (snapshot, student, rules, embedder, teacher client,
running experiments): TTL, reset, and one build when threads race to the first use."""

from __future__ import annotations

import threading
import time

import pytest

from dragonrec.recommender.core.caching import ProcessCache, process_caches_reset


def counting_build(calls: list[object | None], value: str = "v"):  # type: ignore[no-untyped-def]
    def build(previous: str | None) -> str:
        calls.append(previous)
        return f"{value}{len(calls)}"

    return build


def test_a_value_is_built_once_and_rebuilt_after_its_ttl() -> None:
    # given
    ttl = [60.0]
    cache: ProcessCache[str, str] = ProcessCache("test", ttl_s=lambda: ttl[0])
    calls: list[object | None] = []
    # when / then: cached within the TTL
    assert cache.get("home", counting_build(calls)) == "v1"
    assert cache.get("home", counting_build(calls)) == "v1"
    assert calls == [None]
    # a TTL read per lookup: shortening it (override_settings in tests) expires the value at once
    ttl[0] = 0.0
    assert cache.get("home", counting_build(calls)) == "v2"
    assert calls == [None, "v1"]  # the build sees what it replaces, so it can revalidate instead


def test_values_expire_with_time() -> None:
    cache: ProcessCache[str, str] = ProcessCache("test", ttl_s=0.05)
    calls: list[object | None] = []
    cache.get("k", counting_build(calls))
    time.sleep(0.06)
    assert cache.get("k", counting_build(calls)) == "v2"


def test_keys_are_cached_apart_and_without_ttl_forever() -> None:
    cache: ProcessCache[str, str] = ProcessCache("test")
    calls: list[object | None] = []
    assert cache.get("a", counting_build(calls, "a")) == "a1"
    assert cache.get("b", counting_build(calls, "b")) == "b2"
    assert cache.get("a", counting_build(calls, "x")) == "a1"


def test_reset_forgets_every_cache_but_those_that_survive_resets() -> None:
    # given
    data: ProcessCache[str, str] = ProcessCache("data", ttl_s=60)
    model: ProcessCache[str, str] = ProcessCache("model", survives_reset=True)
    calls: list[object | None] = []
    data.get("k", counting_build(calls))
    model.get("k", counting_build(calls, "m"))
    # when
    process_caches_reset()
    # then
    assert data.peek("k") is None
    assert data.get("k", counting_build(calls)) == "v3"
    assert model.get("k", counting_build(calls, "other")) == "m2"


def test_a_failed_build_caches_nothing() -> None:
    cache: ProcessCache[str, str] = ProcessCache("test")

    def broken(_: str | None) -> str:
        raise RuntimeError("artifact missing")

    with pytest.raises(RuntimeError):
        cache.get("k", broken)
    assert cache.get("k", lambda _: "loaded") == "loaded"


def test_threads_racing_to_the_first_use_build_once() -> None:
    # given: a slow build (loading a model) and eight request threads arriving together
    cache: ProcessCache[str, str] = ProcessCache("test", ttl_s=60)
    builds: list[int] = []

    def slow(_: str | None) -> str:
        builds.append(1)
        time.sleep(0.1)
        return "model"

    results: list[str] = []
    barrier = threading.Barrier(8)

    def request() -> None:
        barrier.wait()
        results.append(cache.get("k", slow))

    # when
    threads = [threading.Thread(target=request) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # then
    assert len(builds) == 1
    assert results == ["model"] * 8


def test_stale_value_is_served_while_another_thread_refreshes() -> None:
    # given: an expired value, and a thread rebuilding it slowly
    cache: ProcessCache[str, str] = ProcessCache("test", ttl_s=0, stale_while_refresh=True)
    cache.get("k", lambda _: "old")
    started, release = threading.Event(), threading.Event()

    def slow(_: str | None) -> str:
        started.set()
        release.wait(5)
        return "new"

    other = threading.Thread(target=cache.get, args=("k", slow))
    other.start()
    assert started.wait(5)
    try:
        # when / then: another request does not queue behind the rebuild
        begin = time.monotonic()
        assert cache.get("k", lambda _: "unexpected") == "old"
        assert time.monotonic() - begin < 1
    finally:
        release.set()
        other.join()
    assert cache.peek("k") == "new"


def test_a_build_in_flight_during_a_reset_does_not_store_its_value() -> None:
    cache: ProcessCache[str, str] = ProcessCache("test")
    started, release = threading.Event(), threading.Event()

    def slow(_: str | None) -> str:
        started.set()
        release.wait(5)
        return "built before the reset"

    other = threading.Thread(target=cache.get, args=("k", slow))
    other.start()
    assert started.wait(5)
    cache.reset()
    release.set()
    other.join()
    assert cache.peek("k") is None
