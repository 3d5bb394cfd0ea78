"""The fast lane for well-formed batches (tracking.apis.well_formed_events, services.events_record_well_formed):
a batch whose body msgspec decodes and whose every item would be accepted is stored in a few operations an event;
it must store, count and announce exactly what the usual way does, and leave any other batch to the usual way,
untouched, for its per-item report. These tests commit, as a served request does (inside a test's transaction
both lanes leave the batch to the exact way)."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from django.test import override_settings
from django.utils import timezone as django_timezone
from django_redis import get_redis_connection

from dragonrec.catalog.factories import ProductFactory
from dragonrec.throttling import budget_used, shopper_ident_for
from dragonrec.tracking.models import Event
from dragonrec.tracking.services.events import lane_counts, shopper_counter
from dragonrec.tracking.signals import events_recorded
from dragonrec.tracking.state import VERSION_KEY, shopper_state_get
from tests.throttle_rates import fresh_counters as fresh_counters  # autouse here
from tests.throttle_rates import rates

pytestmark = pytest.mark.django_db(transaction=True)
URL = "/api/events/"
# An unknown key holding an emoji written as escapes: a body the fast lane leaves to the usual way (it screens
# escaped surrogates), with the very same items
USUAL_WAY = '"note": "\\ud83d\\ude00", '


def integration(api_client, api_key):  # type: ignore[no-untyped-def]
    api_client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key(['events:write'])}")
    return api_client


def send(client, items: list[dict[str, Any]], *, usual: bool = False) -> tuple[list[dict[str, str]], Counter[str]]:  # type: ignore[no-untyped-def]
    """POST the batch; its results (one per item, in order, each naming its id) and the lanes it took."""
    body = "{" + (USUAL_WAY if usual else "") + '"events": ' + json.dumps(items, ensure_ascii=False) + "}"
    before = Counter(lane_counts)
    response = client.post(URL, body.encode(), content_type="application/json")
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    lanes = Counter(lane_counts)
    lanes.subtract(before)
    results = response.json()["results"]
    assert [r["id"] for r in results] == [str(uuid.UUID(i["id"])) for i in items]
    return results, +lanes


def shop_batch(session_id: str, product: int, other: int, now: datetime) -> list[dict[str, Any]]:
    """Every kind of item a tracker sends: stamped in UTC and in another zone or not at all, a quantity, a
    price, contexts with non-ASCII text, a click, an impression and a search (no product)."""
    india = timezone(timedelta(hours=5, minutes=30))
    request_id = "3f0c1f8e-7b1a-4c55-9d7e-0d6b1b0f8a11"
    items: list[dict[str, Any]] = [
        {"type": "view", "product_id": product, "timestamp": (now - timedelta(seconds=90)).isoformat()},
        {
            "type": "add_to_cart",
            "product_id": product,
            "quantity": 3,
            "timestamp": (now - timedelta(seconds=80)).astimezone(india).isoformat(),
        },
        {"type": "purchase", "product_id": product, "quantity": 2, "value": "39.98", "timestamp": None},
        {
            "type": "click",
            "product_id": other,
            "context": {"request_id": request_id, "position": 3, "page": "/p/été\\x"},
        },
        {"type": "impression", "context": {"request_id": request_id, "product_ids": [product, other], "list": "home"}},
        {"type": "search", "context": {"query": "chaussures d'été", "results": 12.5}},
        {"type": "view", "product_id": other},
    ]
    return [{"id": str(uuid.uuid4()), "session_id": session_id, **item} for item in items]


STORED = ["type", "user_id", "product_id", "quantity", "value", "context", "source"]


def stored_rows(session_id: str) -> list[dict[str, Any]]:
    rows = Event.objects.filter(session_id=session_id).order_by("timestamp", "type")
    return [
        {
            **{name: getattr(row, name) for name in STORED},
            # the server stamps an event sent without a time with its arrival; otherwise the stated instant
            "timestamp": "arrival" if row.timestamp == row.received_at else row.timestamp,
        }
        for row in rows
    ]


def counted(session_id: str) -> list[Any]:
    """The shopper's limit counters (events, purchases, purchase value in cents) and cached-state version."""
    ident = shopper_ident_for(user_id=None, session_id=session_id)
    version = get_redis_connection("default").get(VERSION_KEY.format(f"s:{session_id}"))
    kinds = ("events", "purchases", "purchase_value")
    return [budget_used(shopper_counter(ident, kind, 1, 1)) for kind in kinds] + [version]


def test_a_well_formed_batch_takes_the_fast_lane_and_stores_what_the_usual_way_stores(api_client, api_key) -> None:  # type: ignore[no-untyped-def]
    client = integration(api_client, api_key)
    product, other = ProductFactory().pk, ProductFactory().pk
    heard: dict[str, list[dict[str, Any]]] = {}

    def receiver(sender: Any, events: list[Event], source: str, **kwargs: Any) -> None:
        fields = [*STORED, "id", "session_id", "timestamp", "received_at"]
        heard.setdefault(events[0].session_id, []).extend({f: getattr(e, f) for f in fields} for e in events)

    events_recorded.connect(receiver, dispatch_uid="test_fast_lane")
    # when the same items come once as a well-formed body and once as a body the fast lane leaves alone
    now = django_timezone.now()
    try:
        fast, fast_lanes = send(client, shop_batch("fast-shopper", product, other, now))
        usual, usual_lanes = send(client, shop_batch("usual-shopper", product, other, now), usual=True)
    finally:
        events_recorded.disconnect(dispatch_uid="test_fast_lane")
    # then the first took the fast lane, the second did not, and both were accepted whole
    assert fast_lanes == {"stored": 1}
    assert usual_lanes == {}
    assert [r["status"] for r in fast] == [r["status"] for r in usual] == ["accepted"] * 7
    # and the rows, the limit counters and the shoppers' state versions are the same, field by field
    assert len(stored_rows("fast-shopper")) == 7
    assert stored_rows("fast-shopper") == stored_rows("usual-shopper")
    assert counted("fast-shopper") == counted("usual-shopper") == [7, 1, 3998, b"1"]
    # and the receivers heard of the stored rows as they are in the table, the same way for both
    for session_id in ("fast-shopper", "usual-shopper"):
        rows = {row["id"]: row for row in Event.objects.filter(session_id=session_id).values()}
        assert len(heard[session_id]) == 7
        assert all(event == {f: rows[event["id"]][f] for f in event} for event in heard[session_id])


def test_a_batch_with_a_malformed_item_gets_its_per_item_report_and_nothing_else_written(api_client, api_key) -> None:  # type: ignore[no-untyped-def]
    client = integration(api_client, api_key)
    product = ProductFactory().pk

    def item(**extra: Any) -> dict[str, Any]:
        return {"id": str(uuid.uuid4()), "type": "view", "product_id": product, "session_id": "s1", **extra}

    old = (django_timezone.now() - timedelta(days=40)).isoformat()
    # when one item does not decode (quantity 0), and in a second batch one decodes but is too old
    first, first_lanes = send(client, [item(), item(quantity=0), item()])
    second, second_lanes = send(client, [item(), item(timestamp=old)])
    third, third_lanes = send(client, [item(quantity=101)])
    with override_settings(DRAGONREC_EVENT_LIMITS={"PURCHASE_VALUE_PER_HOUR": None}):  # only the line's own bound
        fourth, fourth_lanes = send(client, [item(type="purchase", value="100000.01")])
    # then each bad item alone is rejected with today's reason, the others stored once, by the usual way
    assert first[1] == {
        "id": first[1]["id"],
        "status": "rejected",
        "error": "quantity: Ensure this value is greater than or equal to 1.",
    }
    assert [r["status"] for r in first] == ["accepted", "rejected", "accepted"]
    assert [r["status"] for r in second] == ["accepted", "rejected"]
    assert second[1]["error"].startswith(f"timestamp {old} is too old")
    assert third[0]["error"].startswith("quantity: at most 100 per event")
    assert fourth[0]["error"].startswith("value: at most 100000.00 per event")
    # the fast lane wrote nothing, counted nothing
    assert first_lanes == {} and second_lanes == third_lanes == fourth_lanes == {"usual": 1}
    assert Event.objects.count() == 3
    assert counted("s1")[0] == 3


def test_a_repeated_id_in_a_batch_is_left_to_the_usual_way_which_names_it(api_client, api_key) -> None:  # type: ignore[no-untyped-def]
    client = integration(api_client, api_key)
    product = ProductFactory().pk
    same = {"id": str(uuid.uuid4()), "type": "view", "product_id": product, "session_id": "s1"}
    results, lanes = send(client, [same, dict(same)])
    assert [r["status"] for r in results] == ["accepted", "duplicate"]
    assert lanes == {"usual": 1}  # decided before any write: not a COPY refused by the unique index
    assert Event.objects.count() == 1
    assert counted("s1")[0] == 1


def test_the_fast_lane_takes_every_event_type_and_no_other() -> None:
    # a type added to EventType but not to the fast lane's list would send its batches the slow way for ever;
    # one only in the list would be stored without the service's type check
    from typing import get_args

    from dragonrec.tracking.models import EventType
    from dragonrec.tracking.validation import EventKind

    assert sorted(get_args(EventKind)) == sorted(EventType.values)


def test_a_browser_batch_is_its_cookies_and_naming_another_shopper_is_a_403(api_client, shopper_cookie) -> None:  # type: ignore[no-untyped-def]
    client = shopper_cookie(api_client, "cookie-shopper")
    product = ProductFactory().pk

    def item(**extra: Any) -> dict[str, Any]:
        return {"id": str(uuid.uuid4()), "type": "view", "product_id": product, **extra}

    # when a browser sends well-formed items without a session id, or naming its own
    results, lanes = send(client, [item(), item(session_id="cookie-shopper")])
    assert lanes == {"stored": 1} and [r["status"] for r in results] == ["accepted"] * 2
    assert set(Event.objects.values_list("session_id", flat=True)) == {"cookie-shopper"}
    # then naming another shopper's id is refused whole, in the fast lane as in the usual way
    before = Counter(lane_counts)
    body = json.dumps({"events": [item(), item(session_id="someone-else")]})
    response = client.post(URL, body, content_type="application/json")
    assert response.status_code == 403 and "session_id" in response.json()["detail"]
    assert Counter(lane_counts) == before and Event.objects.count() == 2


def test_one_event_object_takes_the_fast_lane_too(api_client, api_key) -> None:  # type: ignore[no-untyped-def]
    client = integration(api_client, api_key)
    product = ProductFactory().pk
    event = {"id": str(uuid.uuid4()), "type": "purchase", "product_id": product, "session_id": "s1", "value": "5.10"}
    before = Counter(lane_counts)
    response = client.post(URL, json.dumps(event), content_type="application/json")
    assert response.json() == {"results": [{"id": event["id"], "status": "accepted"}]}
    assert lane_counts["stored"] == before["stored"] + 1
    assert Event.objects.get().value == Decimal("5.10")
    # and one that names a batch key too is left to the usual way, which refuses the body's shape
    odd = {**event, "id": str(uuid.uuid4()), "events": "no"}
    assert client.post(URL, json.dumps(odd), content_type="application/json").status_code == 400


def test_a_batch_short_of_budget_aborts_the_fast_lanes_copy_and_is_decided_item_by_item(api_client, api_key) -> None:  # type: ignore[no-untyped-def]
    client = integration(api_client, api_key)
    product = ProductFactory().pk
    items = [{"id": str(uuid.uuid4()), "type": "view", "product_id": product, "session_id": "s1"} for _ in range(5)]
    with rates(**{"events.shopper": "3/min"}):
        # when the shopper's limit has room for 3 of the 5 (the limits are counted while the COPY is open)
        results, lanes = send(client, items)
    # then the fast lane's COPY stored nothing, and the usual way stored the 3 that fit, refusing the others
    assert lanes == {"usual": 1}
    assert [r["status"] for r in results] == ["accepted"] * 3 + ["rejected"] * 2
    assert "over the event rate limit" in results[3]["error"]
    assert sorted(map(str, Event.objects.values_list("id", flat=True))) == sorted(i["id"] for i in items[:3])
    assert counted("s1")[0] == 3


def test_a_cached_state_is_not_served_after_a_fast_lane_batch(api_client, api_key) -> None:  # type: ignore[no-untyped-def]
    client = integration(api_client, api_key)
    first, second = ProductFactory().pk, ProductFactory().pk
    view = {"type": "view", "session_id": "cached-shopper"}
    send(client, [{**view, "id": str(uuid.uuid4()), "product_id": first}])
    # given the shopper's state was read, and so cached under its version
    assert [p for p, _, _ in shopper_state_get("s:cached-shopper").history] == [first]
    # when a new batch of theirs takes the fast lane (which bumps the version and leaves the old state to expire)
    _, lanes = send(client, [{**view, "id": str(uuid.uuid4()), "product_id": second}])
    assert lanes == {"stored": 1}
    # then the next read has the new event: the old state is never served again
    assert [p for p, _, _ in shopper_state_get("s:cached-shopper").history] == [first, second]


def test_a_batch_longer_than_a_copy_chunk_is_stored_whole_or_not_at_all(api_client, api_key) -> None:  # type: ignore[no-untyped-def]
    client = integration(api_client, api_key)
    products = [ProductFactory().pk for _ in range(3)]
    # the fast lane sends its COPY in chunks of 100 rows: these batches span three
    batch = [
        {"id": str(uuid.uuid4()), "type": "view", "product_id": products[i % 3], "session_id": f"long-{i % 7}"}
        for i in range(250)
    ]
    results, lanes = send(client, batch)
    # then every item of every chunk is stored, each row as sent
    assert lanes == {"stored": 1} and {r["status"] for r in results} == {"accepted"}
    rows = dict(Event.objects.values_list("id", "product_id"))
    assert rows == {uuid.UUID(i["id"]): i["product_id"] for i in batch}
    # and a batch whose last chunk names an unknown product stores nothing of its earlier chunks on the fast lane:
    # the exact way then rejects that item alone
    bad = [{**item, "id": str(uuid.uuid4())} for item in batch]
    bad[-1]["product_id"] = 999_999
    results, lanes = send(client, bad)
    assert lanes == {"exact": 1}
    assert [r["status"] for r in results] == ["accepted"] * 249 + ["rejected"]
    assert Event.objects.count() == 250 + 249


def test_a_shoppers_purchase_limit_is_one_whichever_lane_counts_it(api_client, api_key) -> None:  # type: ignore[no-untyped-def]
    client = integration(api_client, api_key)
    product = ProductFactory().pk

    def purchases(n: int) -> list[dict[str, Any]]:
        return [
            {"id": str(uuid.uuid4()), "type": "purchase", "product_id": product, "session_id": "s1", "value": "5.00"}
            for _ in range(n)
        ]

    with override_settings(DRAGONREC_EVENT_LIMITS={"PURCHASES_PER_HOUR": 4}):
        # when 2 purchases come by the fast lane, then 3 by the usual way
        fast, fast_lanes = send(client, purchases(2))
        usual, _ = send(client, purchases(3), usual=True)
        # then the usual way finds the 2 counted and grants 2 more; and a fast-lane batch after them is refused
        last, last_lanes = send(client, purchases(1))
    assert fast_lanes == {"stored": 1} and last_lanes == {"usual": 1}
    assert [r["status"] for r in fast + usual + last] == ["accepted"] * 4 + ["rejected"] * 2
    assert "over the purchase limit" in last[0]["error"]
    assert counted("s1")[1:3] == [4, 2000]
