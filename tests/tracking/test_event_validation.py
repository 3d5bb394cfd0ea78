"""What an event may say (issue #21): a value that is non-negative, bounded and in cents, in the product's currency;
a positive, bounded quantity; a timestamp within the past limit (and the retention window) and no further ahead
than the clock skew. Each bad item is a per-item `rejected` naming the field and the rule; the rest of the batch
is stored. The CSV import applies the same timestamp rules, row by row."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import override_settings
from django.utils import timezone

from dragonrec.catalog.factories import ProductFactory
from dragonrec.tracking.models import Event
from dragonrec.tracking.services import tracking_import

pytestmark = pytest.mark.django_db
URL = "/api/events/"


@pytest.fixture
def product():  # type: ignore[no-untyped-def]
    return ProductFactory(price=Decimal("19.99"), currency="EUR")


def item(product_id: int, **extra: Any) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "type": "purchase", "product_id": product_id, **extra}


def answer(client, items: list[dict[str, Any]]) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    response = client.post(URL, {"events": items}, format="json")
    assert response.status_code == 200
    return [(r["status"], r.get("error", "")) for r in response.json()["results"]]


def test_a_negative_or_absurd_value_is_rejected_and_never_reaches_revenue(api_client, product) -> None:  # type: ignore[no-untyped-def]
    results = answer(
        api_client,
        [
            item(product.id, value="-9999999999.99"),  # the audit's: the dashboard's revenue went negative
            item(product.id, value=-0.01),
            item(product.id, value="9999999999.99"),  # fits the column, not a purchase line
            item(product.id, value="100000.01"),
            item(product.id, value="19.999"),
            item(product.id, value="NaN"),
            item(product.id, value="100000.00", type="add_to_cart"),  # the maximum (not a purchase: see the caps)
            item(product.id, value="19.99", quantity=1),
            item(product.id, value=None),
        ],
    )
    assert results[0] == ("rejected", "value: must not be negative, got -9999999999.99")
    assert results[1] == ("rejected", "value: must not be negative, got -0.01")
    assert results[2] == (
        "rejected",
        "value: at most 100000.00 per event (DRAGONREC_EVENT_LIMITS['MAX_VALUE']), got 9999999999.99",
    )
    assert results[3][0] == "rejected" and results[3][1].startswith("value: at most 100000.00 per event")
    assert results[4] == ("rejected", "value: Ensure that there are no more than 2 decimal places.")
    assert results[5][0] == "rejected" and results[5][1].startswith("value:")
    assert [status for status, _ in results[6:]] == ["accepted"] * 3
    assert sorted(v for v in Event.objects.values_list("value", flat=True) if v is not None) == [
        Decimal("19.99"),
        Decimal("100000.00"),
    ]


def test_quantities_are_positive_and_bounded(api_client, product) -> None:  # type: ignore[no-untyped-def]
    results = answer(
        api_client,
        [item(product.id, quantity=q) for q in (0, -3, 101, 100, 1)],
    )
    assert results[0][0] == results[1][0] == "rejected"
    assert results[0][1].startswith("quantity:") and results[1][1].startswith("quantity:")
    assert results[2] == (
        "rejected",
        "quantity: at most 100 per event (DRAGONREC_EVENT_LIMITS['MAX_QUANTITY']), got 101",
    )
    assert [status for status, _ in results[3:]] == ["accepted", "accepted"]
    with override_settings(DRAGONREC_EVENT_LIMITS={"MAX_QUANTITY": 1000}):  # a wholesale shop raises it
        assert answer(api_client, [item(product.id, quantity=1000)]) == [("accepted", "")]


def test_a_stated_currency_must_be_the_products(api_client, product) -> None:  # type: ignore[no-untyped-def]
    results = answer(
        api_client,
        [
            item(product.id, value="19.99", context={"currency": "USD"}),
            item(product.id, value="19.99", context={"currency": ["EUR"]}),
            item(product.id, value="19.99", context={"currency": "eur"}),
            item(product.id, value="19.99"),  # no currency stated: the product's is meant
        ],
    )
    assert results[0] == ("rejected", "context.currency 'USD' is not the product's currency 'EUR'")
    assert results[1][0] == "rejected"
    assert [status for status, _ in results[2:]] == ["accepted", "accepted"]


@pytest.mark.parametrize(
    "when, reason",
    [
        ("0001-01-01T00:00:00Z", "timestamp 0001-01-01T00:00:00+00:00 is too old: events must be at most 30 days old"),
        ("1970-01-01T00:00:00Z", "timestamp 1970-01-01T00:00:00+00:00 is too old"),
        ("ten years ago", "is too old"),
        ("31 days ago", "is too old"),
        ("6 minutes ahead", "is in the future (more than 300 s ahead of the server's clock)"),
        ("in 2099", "is in the future"),
    ],
)
def test_timestamps_outside_the_window_are_rejected(api_client, product, when: str, reason: str) -> None:  # type: ignore[no-untyped-def]
    now = timezone.now()
    relative = {
        "ten years ago": now - timedelta(days=3653),
        "31 days ago": now - timedelta(days=31),
        "6 minutes ahead": now + timedelta(minutes=6),
        "in 2099": datetime(2099, 1, 1, tzinfo=UTC),
    }
    stamp = relative[when].isoformat() if when in relative else when
    results = answer(api_client, [item(product.id, type="view", timestamp=stamp), item(product.id, type="view")])
    assert results[0][0] == "rejected"
    assert reason in results[0][1]
    assert results[1] == ("accepted", "")  # the batch's other item is stored all the same
    assert Event.objects.count() == 1


def test_timestamps_inside_the_window_are_accepted(api_client, product) -> None:  # type: ignore[no-untyped-def]
    now = timezone.now()
    stamps = [now - timedelta(days=29), now - timedelta(minutes=1), now + timedelta(minutes=4)]
    results = answer(api_client, [item(product.id, type="view", timestamp=t.isoformat()) for t in stamps])
    assert results == [("accepted", "")] * 3


def test_the_retention_window_bounds_the_past_limit(api_client, product) -> None:  # type: ignore[no-untyped-def]
    # a shop that keeps events 7 days would delete an 8-day-old one at the next retention run: refused instead
    retention = {**settings.RECOMMENDER.get("RETENTION", {}), "events_days": 7}
    with override_settings(RECOMMENDER={**settings.RECOMMENDER, "RETENTION": retention}):
        results = answer(
            api_client,
            [
                item(product.id, type="view", timestamp=(timezone.now() - timedelta(days=8)).isoformat()),
                item(product.id, type="view", timestamp=(timezone.now() - timedelta(days=6)).isoformat()),
            ],
        )
    assert results[0][0] == "rejected" and "at most 7 days old" in results[0][1]
    assert results[1] == ("accepted", "")


def test_the_import_applies_the_timestamp_rules_row_by_row(tmp_path: Path) -> None:
    ProductFactory(sku="A")
    ahead = (timezone.now() + timedelta(days=1)).isoformat()
    path = tmp_path / "events.csv"
    path.write_text(
        "user_id,item_id,event_type,timestamp,rating\n"
        "u1,A,rating,0,5\n"  # a position in a sequence, as ../shared/data stores them: history, kept
        "u1,A,view,2016-05-01T10:00:00Z,\n"  # ten years ago: importing history is what the command is for
        "u2,A,view,0001-01-01T00:00:00Z,\n"
        f"u2,A,view,{ahead},\n"
        "u2,A,view,-86400,\n"
        "u2,A,view,1e300,\n"
        "u2,A,view,2026-13-45T00:00:00,\n"
        "u3,A,rating,1,nan\n"
        "u3,A,rating,2,11\n"
        "u3,A,rating,3,five\n"
    )
    report = tracking_import(path=path)
    assert report.created == 2
    assert {e.line: e.reason for e in report.errors} == {
        4: "timestamp 0001-01-01T00:00:00+00:00 is before 1970-01-01",
        5: f"timestamp {datetime.fromisoformat(ahead).isoformat()} is in the future (more than 300 s ahead of "
        "the server's clock)",
        6: "timestamp 1969-12-31T00:00:00+00:00 is before 1970-01-01",
        7: "bad timestamp '1e300'",
        8: "bad timestamp '2026-13-45T00:00:00'",
        9: "rating nan is not a number between 0 and 10",
        10: "rating 11.0 is not a number between 0 and 10",
        11: "bad rating 'five'",
    }


def test_the_import_can_be_given_a_past_limit(tmp_path: Path) -> None:
    ProductFactory(sku="A")
    recent = (timezone.now() - timedelta(days=10)).isoformat()
    path = tmp_path / "events.csv"
    path.write_text(f"user_id,item_id,event_type,timestamp\nu1,A,view,{recent}\nu1,A,view,2016-05-01T10:00:00Z\n")
    with override_settings(DRAGONREC_EVENT_LIMITS={"IMPORT_MAX_AGE_DAYS": 365}):
        report = tracking_import(path=path)
    assert report.created == 1
    assert [(e.line, e.reason.split(":")[0]) for e in report.errors] == [(3, "timestamp 2016-05-01T10")]
    assert "is too old: events must be at most 365 days old (DRAGONREC_EVENT_LIMITS['IMPORT_MAX_AGE_DAYS'])" in (
        report.errors[0].reason
    )


def test_a_product_id_beyond_the_database_range_is_a_per_item_error(api_client, product) -> None:  # type: ignore[no-untyped-def]
    """Found by the schema fuzzer: an id above PostgreSQL's bigint failed the batch's statement (a 500)."""
    results = answer(api_client, [item(2**63), item(9566636480059221537667973906432), item(product.id)])

    assert [status for status, _ in results] == ["rejected", "rejected", "accepted"]
    assert results[0][1].startswith("product_id:")
