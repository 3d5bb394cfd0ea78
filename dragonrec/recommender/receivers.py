"""Signal receivers: each is one call into a service or one task fired on commit."""

from __future__ import annotations

from typing import Any

from django.db import transaction


def product_saved(sender: Any, instance: Any, **kwargs: Any) -> None:
    """A created/changed product gets (re-)embedded after the commit, off the request path."""
    from dragonrec.recommender.tasks import embed_products

    pk = instance.pk
    transaction.on_commit(lambda: embed_products.delay([pk]))


def events_recorded(sender: Any, events: list[Any], source: str, **kwargs: Any) -> None:
    """Clicks that carry a recommendation request id are attributed to that impression (and lift its product's
    impression fatigue for that shopper)."""
    if source != "api":
        return
    from dragonrec.recommender.services.feedback import clicks_attribute
    from dragonrec.recommender.services.impressions import fatigue_clicks_record

    clicks_attribute(events=events)
    fatigue_clicks_record(events=events)


def schedule_install(sender: Any, **kwargs: Any) -> None:
    """After `migrate`: create/update our beat schedule entries by name."""
    from dragonrec.recommender.services.schedule import periodic_tasks_install

    periodic_tasks_install()
