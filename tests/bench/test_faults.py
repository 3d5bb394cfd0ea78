"""bench/faults.py can fail: its clients and its check, run small against a live server and the real database,
pass on a clean run and fail on one lost event, one lost served list, or one refused request."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from dragonrec.catalog.factories import ProductFactory

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db(transaction=True)


def load_bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_faults", REPO / "bench" / "faults.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_faults"] = module  # dataclasses resolve their annotations through it
    spec.loader.exec_module(module)
    return module


def drive(live_server: Any, api_key: Callable[[list[str]], str]) -> tuple[ModuleType, Any]:
    """A browser shopper (cookie) and a shop backend (API key), 12 events each, as the benchmark drives them."""
    from dragonrec.recommender.services.impressions import impressions_buffered, impressions_flush

    bench = load_bench()
    products = [p.id for p in ProductFactory.create_batch(8)]
    key = api_key(["events:write", "recommendations:read"])
    ledger = bench.Ledger()
    host, port = live_server.thread.host, live_server.thread.port
    for i, client_key in enumerate([None, key]):
        bench.Client(f"c{i}", host, port, 12, products, ledger, api_key=client_key, seed=i).run()
    while impressions_buffered():  # what the worker (or beat's safety net) does
        impressions_flush(reschedule=False)
    return bench, ledger


def test_a_clean_run_passes_and_one_lost_event_or_served_list_fails_it(live_server: Any, api_key: Any) -> None:
    bench, ledger = drive(live_server, api_key)
    assert ledger.accepted > 0 and ledger.served, "the clients were served"
    assert ("shopper", "auth/session", 200) in ledger.statuses, "the shopper got its cookie first"

    clean = bench.verify(ledger)
    assert not clean.failed, clean.lines

    lost_event = bench.verify(ledger, inject="event")
    assert lost_event.failed
    assert any("1 lost" in line for line in lost_event.lines if line.startswith("events:")), lost_event.lines

    lost_list = bench.verify(ledger, inject="impression")
    assert lost_list.failed
    assert any("1 lost" in line for line in lost_list.lines if line.startswith("served lists:")), lost_list.lines


def test_a_refused_request_fails_the_run(live_server: Any) -> None:
    bench = load_bench()
    ledger = bench.Ledger()
    products = [p.id for p in ProductFactory.create_batch(2)]
    host, port = live_server.thread.host, live_server.thread.port

    bench.Client("bad key", host, port, 3, products, ledger, api_key="drk_wrong_key").run()  # answered 401

    verdict = bench.verify(ledger)
    assert verdict.failed
    assert any(r.startswith("401 POST /api/events/") for r in ledger.refused), ledger.refused
