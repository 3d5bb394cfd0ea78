"""Counted budgets (dragonrec.throttling.budgets_take) on the real Redis: exact under concurrency, nothing counted
for what was refused, and every window closes by itself."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.cache import cache
from django.test import override_settings
from django_redis import get_redis_connection

from dragonrec.throttling import Budget, budget_used, budgets_give_back, budgets_take


@pytest.fixture(autouse=True)
def fresh_counters():  # type: ignore[no-untyped-def]
    cache.clear()
    yield
    cache.clear()


def test_concurrent_takers_never_get_more_than_the_limit_together() -> None:
    # given 8 threads, each asking 40 times for one unit from a budget of 100 (320 asked in all)
    budget = Budget("test:shared", limit=100, period=60)

    def take(_: int) -> int:
        return sum(budgets_take([[(budget, 1)]])[0] is None for _ in range(40))

    with ThreadPoolExecutor(8) as pool:
        granted = sum(pool.map(take, range(8)))
    # then exactly 100 were granted: a read-then-write from two requests would have granted more
    assert granted == 100
    assert int(get_redis_connection("default").get(budget.key)) == 100


def test_an_item_is_granted_only_if_all_its_budgets_have_room_and_refusals_cost_nothing() -> None:
    events = Budget("test:events", limit=10, period=60)
    value = Budget("test:value", limit=1000, period=3600)
    refusals = budgets_take([[(events, 1), (value, 600)], [(events, 1), (value, 600)], [(events, 1), (value, 400)]])
    # the second does not fit the value budget, so it takes nothing from the events budget either
    assert [r is None for r in refusals] == [True, False, True]
    refusal = refusals[1]
    assert refusal is not None and refusal.budget == value and 3500 < refusal.retry_after <= 3600
    redis = get_redis_connection("default")
    assert (int(redis.get(events.key)), int(redis.get(value.key))) == (2, 1000)
    # and both windows close by themselves
    assert 0 < redis.ttl(events.key) <= 60 and 3500 < redis.ttl(value.key) <= 3600


def test_a_later_batch_keeps_the_window_it_found() -> None:
    budget = Budget("test:window", limit=5, period=60)
    redis = get_redis_connection("default")
    assert budgets_take([[(budget, 3)]]) == [None]
    redis.expire(budget.key, 7)  # as if 53 s of the window had passed
    second = budgets_take([[(budget, 2)], [(budget, 1)]])
    # a taker does not extend the window (that would keep a steady client locked out for ever)
    assert second[0] is None and second[1] is not None and second[1].retry_after <= 7
    assert redis.ttl(budget.key) <= 7


def test_a_cache_without_redis_still_enforces_the_limits() -> None:
    # a host project on another cache backend: the same rules through the cache API (not atomic across processes)
    local = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "budgets"}}
    budget = Budget("test:local", limit=3, period=60)
    with override_settings(CACHES=local):
        first = budgets_take([[(budget, 1)]] * 2)
        second = budgets_take([[(budget, 1)]] * 2)
    assert [r is None for r in first + second] == [True, True, True, False]


def test_a_batch_that_fits_is_counted_whole_and_every_window_closes() -> None:
    # given a fresh counter and one left without an expiry (written by something else)
    fresh = Budget("test:fresh", limit=100, period=60)
    old = Budget("test:old", limit=100, period=60)
    redis = get_redis_connection("default")
    redis.set(old.key, 5)
    # when a batch that fits both is taken (items of one shopper share one cost list, as events_record builds them)
    shared = [(fresh, 1), (old, 2)]
    assert budgets_take([shared] * 10 + [[(fresh, 3)]]) == [None] * 11
    # then each counter holds exactly what the batch drew, and both windows close by themselves
    assert (int(redis.get(fresh.key)), int(redis.get(old.key))) == (13, 25)
    assert 0 < redis.ttl(fresh.key) <= 60 and 0 < redis.ttl(old.key) <= 60
    # and a batch one unit too big for a counter is decided item by item: the last item is refused alone
    assert [r is None for r in budgets_take([[(fresh, 40)], [(fresh, 47)], [(fresh, 1)]])] == [True, True, False]
    assert int(redis.get(fresh.key)) == 100


def test_a_batch_drawing_on_more_counters_than_one_pass_can_read_is_still_limited() -> None:
    # given 8,100 counters (more than Lua's unpack() hands to one MGET), each with room for one unit
    budgets = [Budget(f"test:many:{i}", limit=1, period=60) for i in range(8_100)]
    # when each is drawn on once, and the first once more
    refusals = budgets_take([[(budget, 1)] for budget in budgets] + [[(budgets[0], 1)]])
    # then the counters are checked item by item, not waved through as an unreachable cache would be
    assert refusals[:-1] == [None] * 8_100
    assert refusals[-1] is not None and refusals[-1].budget == budgets[0]


def test_a_shoppers_counters_are_fields_of_one_key_each_with_its_own_window() -> None:
    # given a shopper's event counter (10 a second) and purchase counter (2 an hour) as fields of one key
    events = Budget("test:shopper:s1", limit=10, period=1, field="events")
    purchases = Budget("test:shopper:s1", limit=2, period=3600, field="purchases")
    redis = get_redis_connection("default")
    # when three purchases arrive (each also an event)
    refusals = budgets_take([[(events, 1), (purchases, 1)]] * 3)
    # then the third is refused by the purchase counter, naming its window, and counts on neither
    assert [r is None for r in refusals] == [True, True, False]
    refusal = refusals[2]
    assert refusal is not None and refusal.budget == purchases and 3500 < refusal.retry_after <= 3600
    assert (budget_used(events), budget_used(purchases)) == (2, 2)
    assert redis.keys("*test:shopper*") == [events.key.encode()] and redis.ttl(events.key) > 3500  # one key
    # when the event window closes while the purchase window stays open
    time.sleep(1.1)
    # then the events start a new window with the whole rate, and the purchases stay counted in theirs
    assert budget_used(events) == 0
    assert budgets_take([[(events, 10)]]) == [None]
    refused = budgets_take([[(purchases, 1)]])[0]
    assert refused is not None and refused.budget == purchases
    assert (budget_used(events), budget_used(purchases)) == (10, 2)
    assert 3500 < redis.ttl(events.key) <= 3600  # as long as its longest window, no longer
    # and what is given back comes off its own counter only
    budgets_give_back([[(purchases, 1)]])
    assert (budget_used(events), budget_used(purchases)) == (10, 1)
    # and more given back than this window counted (another request opened it meanwhile) stops at nothing
    budgets_give_back([[(purchases, 5)]])
    assert (budget_used(events), budget_used(purchases)) == (10, 0)
