"""Writes about a shopper: merging an anonymous session into the account at sign-in, the new shopper id at sign-in
and sign-out, stated preferences, and the erasure of a shopper's tracking data."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction

from dragonrec.tracking.identity import cookie_rotate, presented_session_id, shopper_key, shopper_key_hash, signed_in
from dragonrec.tracking.models import Event, ShopperErasure, UserPreference
from dragonrec.tracking.signals import session_merged
from dragonrec.tracking.state import shopper_state_changed


@transaction.atomic
def session_merge_into_user(*, session_id: str, user: Any) -> int:
    """Attach an anonymous session's events (and stated preferences) to the user who just signed in. The rows are
    re-owned in place, so replays and repeated sign-ins never duplicate anything. Callers pass only the session id
    of the signing-in browser's own signed cookie: merging someone else's session would hand over their history."""
    if not session_id:
        return 0
    count = Event.objects.filter(session_id=session_id, user__isnull=True).update(user=user)
    preference_merge_into_user(session_id=session_id, user=user)
    shopper_state_changed(
        [shopper_key(user_id=user.pk, session_id=""), shopper_key(user_id=None, session_id=session_id)]
    )
    if count:
        transaction.on_commit(lambda: session_merged.send(sender=Event, user=user, session_id=session_id, count=count))
    return count


@transaction.atomic
def shopper_sign_in(*, request: Any, user: Any) -> int:
    """At sign-in (and on the explicit merge endpoint): attach the anonymous history of the shopper cookie this very
    request presented, verified (signed, not retired), to `user`; then retire that id and give the browser a new
    one. Returns the number of events merged.

    Retiring is what makes the merge safe: a copy of the pre-sign-in cookie (a shared computer, a planted cookie)
    can afterwards neither read nor erase what became the account's, and whatever it records later stays anonymous
    under a dead id instead of reaching this account at a later sign-in."""
    session_id = presented_session_id(request)
    if not session_id:
        return 0
    merged = session_merge_into_user(session_id=session_id, user=user)
    cookie_rotate(request)
    return merged


def shopper_sign_out(*, request: Any) -> None:
    """At sign-out: a new anonymous id for the browser, the signed-in one retired (its copies are worth nothing)."""
    cookie_rotate(request)


def _clean(values: list[str]) -> list[str]:
    return list(dict.fromkeys(v.strip() for v in values if v.strip()))


@transaction.atomic
def preference_update(
    *,
    user: Any | None = None,
    session_id: str = "",
    categories: list[str] | None = None,
    brands: list[str] | None = None,
    price_min: Decimal | None = None,
    price_max: Decimal | None = None,
) -> UserPreference:
    """State a shopper's tastes: a signed-in user's, else the anonymous session's."""
    if signed_in(user) is not None:
        pref, _ = UserPreference.objects.select_for_update().get_or_create(user=user)
    elif session_id:
        pref, _ = UserPreference.objects.select_for_update().get_or_create(user=None, session_id=session_id)
    else:
        raise ValueError("preferences need a user or a session id")
    if categories is not None:
        pref.categories = _clean(categories)
    if brands is not None:
        pref.brands = _clean(brands)
    pref.price_min = price_min
    pref.price_max = price_max
    pref.save()
    return pref


def preference_merge_into_user(*, session_id: str, user: Any) -> UserPreference | None:
    """At sign-in: what the visitor just stated comes first, what the account held before is kept after it; a
    price band stated anonymously replaces the account's (it is the more recent wish)."""
    anon = UserPreference.objects.select_for_update().filter(user__isnull=True, session_id=session_id).first()
    if anon is None:
        return None
    mine, _ = UserPreference.objects.select_for_update().get_or_create(user=user)
    mine.categories = _clean([*anon.categories, *mine.categories])
    mine.brands = _clean([*anon.brands, *mine.brands])
    if anon.price_min is not None or anon.price_max is not None:
        mine.price_min, mine.price_max = anon.price_min, anon.price_max
    mine.save()
    anon.delete()
    return mine


@dataclass
class TrackingErasure:
    events: int = 0
    preferences: int = 0


@transaction.atomic
def shopper_tracking_erase(*, user_id: int | None, session_id: str, requested_by: str = "shopper") -> TrackingErasure:
    """Delete a shopper's events and preferences (the user's and/or the session's) and record the erasure, so the
    training-data builders leave this shopper out from now on. Bulk deletes: 10,000 events take well under a
    second."""
    result = TrackingErasure()
    keys = []
    if user_id:
        result.events += Event.objects.filter(user_id=user_id).delete()[0]
        result.preferences += UserPreference.objects.filter(user_id=user_id).delete()[0]
        keys.append(shopper_key(user_id=user_id, session_id=""))
    if session_id:
        # the anonymous rows only: a signed-in shopper's events carry their browser's id too, and whoever holds
        # that id (a copied cookie) must not erase the account's data
        result.events += Event.objects.filter(session_id=session_id, user__isnull=True).delete()[0]
        result.preferences += UserPreference.objects.filter(user__isnull=True, session_id=session_id).delete()[0]
        keys.append(shopper_key(user_id=None, session_id=session_id))
    for key in keys:
        ShopperErasure.objects.update_or_create(key_hash=shopper_key_hash(key), defaults={"requested_by": requested_by})
    shopper_state_changed(keys)  # also drops the cached copy of the erased history
    return result
