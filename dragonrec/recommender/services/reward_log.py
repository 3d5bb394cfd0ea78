"""The reward log: every served list with what came of it, streamed out for training and analysis.

    >>> with open("log.jsonl", "w") as out:
    ...     reward_log_export(out=out, fmt="seed", since=week_ago)

Two shapes, one line per served list:
- `seed`: the design's training-data shape, exactly three string fields
  `{"user_browsing_history": "['SKU-1', 'SKU-2']", "llm_recommendations": "['SKU-7', 'SKU-9']",
    "user_action": "clicked SKU-9"}` with `user_action` one of `clicked X`, `added X to cart`, `purchased X`,
  `no action` (the strongest action on the list; the highest-placed item among equals);
- `jsonl`: everything we know: request id, time, scenario, shopper key, policy (ranker, model version,
  exploration), the history the list was made from, and per item its position, score, source, propensity and the
  times of click, cart and purchase.
Products are rendered as the shop's SKU (the adapter's `sku_field`), or `prod_<id>` without one.
Streams in chunks (a month of traffic does not need memory); erased shoppers' lists are gone by then.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict
from datetime import datetime
from typing import IO, Any

from dragonrec.recommender.adapters import product_adapter
from dragonrec.recommender.models import ServedList
from dragonrec.recommender.selectors import served_pages
from dragonrec.tracking.identity import shopper_key

CHUNK = 500  # lists per round trip: ~5k items, a few MB of rows at most
FORMATS = ("seed", "jsonl")
ACTIONS = (("purchased_at", "purchased {}"), ("carted_at", "added {} to cart"), ("clicked_at", "clicked {}"))


def reward_log_rows(*, since: datetime | None = None, until: datetime | None = None) -> Iterator[dict[str, Any]]:
    """Served lists (oldest first) with their items and outcomes, as plain dicts, fetched CHUNK lists at a time
    by keyset pagination on (served_at, request_id); four statements a chunk (lists, outcomes, histories)."""
    qs = ServedList.objects.select_related("policy").order_by("served_at", "request_id")
    if since is not None:
        qs = qs.filter(served_at__gte=since)
    if until is not None:
        qs = qs.filter(served_at__lt=until)
    qs = qs.defer("context")
    last: tuple[datetime, Any] | None = None
    while True:
        page = qs
        if last is not None:
            page = page.filter(served_at__gte=last[0]).exclude(served_at=last[0], request_id__lte=last[1])
        lists = list(page[:CHUNK])
        if not lists:
            return
        for page_ in served_pages(lists):
            served = page_.served
            yield {
                "request_id": served.request_id,
                "created_at": served.served_at,
                "scenario": served.scenario,
                "ranker": served.policy.ranker,
                "model_version": served.policy.model_version,
                "policy": served.policy.policy,
                "shopper": shopper_key(user_id=served.user_id, session_id=served.session_id),
                "history": page_.history,
                "items": [asdict(item) for item in page_.items],
            }
        last = (lists[-1].served_at, lists[-1].request_id)


def _skus(product_ids: Iterable[int]) -> dict[int, str]:
    ids = set(product_ids)
    adapter = product_adapter()
    field = getattr(adapter, "sku_field", None)
    found: dict[int, str] = {}
    if field and ids:
        found = {int(pk): str(sku) for pk, sku in adapter.queryset().filter(pk__in=ids).values_list("pk", field)}
    return {pid: found.get(pid) or f"prod_{pid}" for pid in ids}


def _history(row: dict[str, Any]) -> list[tuple[int, str]]:
    return list(row.get("history") or [])


def user_action(items: list[dict[str, Any]], sku: dict[int, str]) -> str:
    for field, template in ACTIONS:
        done = [item for item in items if item.get(field)]
        if done:
            return template.format(sku[min(done, key=lambda i: i["position"])["product_id"]])
    return "no action"


def seed_line(row: dict[str, Any], sku: dict[int, str]) -> dict[str, str]:
    return {
        "user_browsing_history": str([sku[pid] for pid, _ in _history(row)]),
        "llm_recommendations": str([sku[item["product_id"]] for item in row["items"]]),
        "user_action": user_action(row["items"], sku),
    }


def jsonl_line(row: dict[str, Any], sku: dict[int, str]) -> dict[str, Any]:
    def when(value: Any) -> str | None:
        return value.isoformat() if value else None

    return {
        "request_id": str(row["request_id"]),
        "created_at": row["created_at"].isoformat(),
        "scenario": row["scenario"],
        "shopper": row.get("shopper", ""),
        "policy": row.get("policy") or {"ranker": row["ranker"], "model_version": row["model_version"]},
        "history": [{"product": sku[pid], "product_id": pid, "type": kind} for pid, kind in _history(row)],
        "items": [
            {
                "position": item["position"],
                "product": sku[item["product_id"]],
                "product_id": item["product_id"],
                "score": item["score"],
                "source": item["source"],
                "propensity": item["propensity"],
                "clicked_at": when(item["clicked_at"]),
                "carted_at": when(item["carted_at"]),
                "purchased_at": when(item["purchased_at"]),
            }
            for item in row["items"]
        ],
        "user_action": user_action(row["items"], sku),
    }


def reward_log_export(
    *, out: IO[str], fmt: str = "seed", since: datetime | None = None, until: datetime | None = None
) -> int:
    """Write one JSON object per served list to `out`; returns the number of lists written."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    render = seed_line if fmt == "seed" else jsonl_line
    written = 0
    buffer: list[dict[str, Any]] = []

    def drain() -> None:
        ids = {pid for row in buffer for pid, _ in _history(row)} | {
            item["product_id"] for row in buffer for item in row["items"]
        }
        sku = _skus(ids)
        for row in buffer:
            out.write(json.dumps(render(row, sku), ensure_ascii=False) + "\n")
        buffer.clear()

    for row in reward_log_rows(since=since, until=until):
        buffer.append(row)
        written += 1
        if len(buffer) >= CHUNK:
            drain()
    drain()
    return written
