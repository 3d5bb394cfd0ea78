"""What an event may say: text our storage can hold (dragonrec.text_validation, shared with the catalog and
re-exported here), checked per event, so one bad item is a per-item `rejected` instead of a 500 that loses the good
items of its batch.

The limits of what an event may say (`DRAGONREC_EVENT_LIMITS`: value, quantity, how old or how far ahead its
timestamp may be, purchases per shopper per hour) are read here too, and checked by `value_problem`,
`quantity_problem`, `timestamp_problem` and `currency_problem`: the API (tracking.services.events_record) and the
CSV import (tracking.services.tracking_import) call the same functions, so a row is refused for the same reason
whichever way it arrives.
"""

from __future__ import annotations

import math
import re
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

import msgspec
from django.conf import settings

from dragonrec.text_validation import bad_text_error as bad_text_error
from dragonrec.text_validation import printable as printable
from dragonrec.text_validation import text_problem as text_problem

EVENT_LIMIT_DEFAULTS: dict[str, Any] = {
    # A line's value (price x quantity, in the shop's currency): a purchase line above this is not a real one.
    # 100,000.00 is 40 of the demo catalog's dearest product; a shop selling cars raises it.
    "MAX_VALUE": Decimal("100000.00"),
    # Units per event line: a storefront's quantity picker stops well below this; a B2B shop raises it.
    "MAX_QUANTITY": 100,
    # API events older than this are refused (None = no past limit). The tracker delivers within seconds, or after
    # an offline stretch from its localStorage queue; a month covers a device offline for weeks, and is the
    # trending window (TRENDING_WINDOW_DAYS), past which an event changes no aggregate a shopper sees. The
    # retention window (RECOMMENDER["RETENTION"]["events_days"]) bounds it too: an event the next retention run
    # would delete is refused rather than stored.
    "MAX_AGE_DAYS": 30,
    # The same for `tracking_import` rows. None: only "not before 1970-01-01" (unix time 0): importing history is
    # what the command is for, and the ../shared/data sets store positions in a sequence as seconds from 0.
    "IMPORT_MAX_AGE_DAYS": None,
    # How far ahead of the server's clock a timestamp may be: phones set by hand run minutes off (5 minutes is
    # also Kerberos' default skew); further ahead is a bad clock or a forged event.
    "CLOCK_SKEW_S": 300,
    # Purchase lines (one event per product bought) per shopper per hour, and their summed value: a shopper
    # checking out a 50-line basket fits; "12,000 purchases from one cookie in 4 seconds" does not. Counted in
    # Redis with the event-rate limits (dragonrec.throttling.budgets_take); None = no cap.
    "PURCHASES_PER_HOUR": 50,
    "PURCHASE_VALUE_PER_HOUR": Decimal("100000.00"),
}
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # no shop recorded an event before unix time 0
VALUE_PLACES = 2  # the Event.value column's decimal places: more would be rounded silently by the database


def event_limits() -> dict[str, Any]:
    """DRAGONREC_EVENT_LIMITS over the defaults; read per call, so `override_settings` works in tests."""
    return {**EVENT_LIMIT_DEFAULTS, **getattr(settings, "DRAGONREC_EVENT_LIMITS", {})}


def value_problem(value: Decimal | None, *, limits: dict[str, Any]) -> str:
    """Why an event's `value` cannot be stored, or "" when it can (None: no value, always fine)."""
    if value is None:
        return ""
    if not value.is_finite():
        return "value: must be a finite number"
    if value < 0:
        return f"value: must not be negative, got {value}"
    maximum = limits["MAX_VALUE"]
    if maximum is not None and value > Decimal(str(maximum)):
        return f"value: at most {maximum} per event (DRAGONREC_EVENT_LIMITS['MAX_VALUE']), got {value}"
    try:
        exact = value == value.quantize(Decimal(1).scaleb(-VALUE_PLACES))
    except InvalidOperation:  # too many digits to quantize: far beyond any sane value anyway
        exact = False
    if not exact:
        return f"value: at most {VALUE_PLACES} decimal places, got {value}"
    return ""


def quantity_problem(quantity: int, *, limits: dict[str, Any]) -> str:
    if quantity < 1:
        return f"quantity: must be at least 1, got {quantity}"
    maximum = limits["MAX_QUANTITY"]
    if maximum is not None and quantity > maximum:
        return f"quantity: at most {maximum} per event (DRAGONREC_EVENT_LIMITS['MAX_QUANTITY']), got {quantity}"
    return ""


def oldest_allowed(*, now: datetime, limits: dict[str, Any], source: str = "api") -> datetime:
    """The earliest timestamp an event from `source` ("api" or "import") may carry."""
    days = limits["IMPORT_MAX_AGE_DAYS"] if source == "import" else limits["MAX_AGE_DAYS"]
    if source != "import":
        # Read from the Django setting, not through recommender.conf: tracking never imports the recommender.
        retention = (getattr(settings, "RECOMMENDER", {}) or {}).get("RETENTION") or {}
        kept = retention.get("events_days")
        if kept is not None:
            days = kept if days is None else min(days, kept)
    return EPOCH if days is None else max(EPOCH, now - timedelta(days=days))


def timestamp_problem(
    timestamp: datetime | None, *, now: datetime, oldest: datetime, limits: dict[str, Any], source: str = "api"
) -> str:
    """Why a timestamp is not believable: before `oldest`, or ahead of `now` by more than the clock skew."""
    if timestamp is None:
        return ""
    if timestamp < oldest:
        if oldest == EPOCH:
            return f"timestamp {timestamp.isoformat()} is before 1970-01-01"
        setting = (
            "DRAGONREC_EVENT_LIMITS['IMPORT_MAX_AGE_DAYS']"
            if source == "import"
            else "DRAGONREC_EVENT_LIMITS['MAX_AGE_DAYS'] or RECOMMENDER['RETENTION']['events_days'], the shorter"
        )
        return (
            f"timestamp {timestamp.isoformat()} is too old: events must be at most "
            f"{round((now - oldest).total_seconds() / 86400)} days old ({setting})"
        )
    skew = timedelta(seconds=limits["CLOCK_SKEW_S"])
    if timestamp > now + skew:
        return (
            f"timestamp {timestamp.isoformat()} is in the future (more than {int(skew.total_seconds())} s ahead of "
            "the server's clock)"
        )
    return ""


def currency_problem(context: dict[str, Any], product_currency: str | None) -> str:
    """A `context.currency` (GA4's purchase parameter) must be the product's: values are summed as one currency."""
    stated = context.get("currency") if isinstance(context, dict) else None
    if stated is None or product_currency is None:
        return ""
    if not isinstance(stated, str) or stated.strip().upper() != product_currency.upper():
        return f"context.currency {printable(stated)!r} is not the product's currency {product_currency!r}"
    return ""


def rating_problem(rating: float) -> str:
    """An imported rating: a finite number on a star scale (MovieLens and Amazon use 1-5, some shops 10)."""
    if not math.isfinite(rating) or not 0 <= rating <= 10:
        return f"rating {rating} is not a number between 0 and 10"
    return ""


# ------------------------------------------------------------------------------------------------ the fast lane
# A batch as the usual tracker sends it, decoded and checked in C by msgspec (tracking.apis.EventCreateApi): what
# EventItemSerializer.quick takes as it is, and nothing more. Anything else (an unknown or padded type, a number
# where text belongs, a price as a JSON number, a timestamp without its zone, a field out of range, a missing id)
# fails the decode, and the batch goes the usual way item by item, with its per-item reasons. Text no column can
# hold is screened on the raw body by the view; the service checks the rest (tracking.services.events).
MAX_ID = 2**63 - 1  # PostgreSQL's bigint
MAX_CONTEXT_BYTES = 4096  # page, referrer, request id, position: anything bigger is not tracking context
# Event types as the API spells them (EventType's values; a test checks they agree): what an item may name
EventKind = Literal["view", "add_to_cart", "remove_from_cart", "purchase", "click", "search", "rating", "impression"]
PLAIN_DECIMAL = re.compile(r"^\d{1,10}(?:\.\d{1,2})?\Z")  # a price taken as it is: digits, at most 2 decimals


class WellFormedEvent(msgspec.Struct, gc=False):
    """One item of a well-formed batch: EventItemSerializer's fields, with the bounds `quick` enforces. Untracked
    by the garbage collector (it holds no reference back to itself): a 500-event batch decoded a quarter faster,
    with half the collections."""

    id: uuid.UUID
    type: EventKind
    product_id: Annotated[int, msgspec.Meta(ge=1, le=MAX_ID)] | None = None
    session_id: Annotated[str, msgspec.Meta(max_length=128)] = ""
    timestamp: Annotated[datetime, msgspec.Meta(tz=True)] | None = None
    quantity: Annotated[int, msgspec.Meta(ge=1, le=10_000)] = 1
    value: Annotated[str, msgspec.Meta(pattern=PLAIN_DECIMAL.pattern)] | None = None
    context: dict[str, Any] = {}
