"""Served lists in their compact form (issue #24): one row per list with arrays, outcomes in a table of their own,
day partitions created ahead and dropped by retention, a shopper's lists erased. Real PostgreSQL and Redis."""

from __future__ import annotations

import uuid
from datetime import UTC, timedelta
from typing import Any

import pytest
from django.conf import settings
from django.test import override_settings
from django.utils import timezone

from dragonrec.catalog.factories import ProductFactory
from dragonrec.recommender.models import Experiment, ServedList, ServedOutcome
from dragonrec.recommender.selectors import served_items
from dragonrec.recommender.services.feedback import clicks_attribute, rewards_attribute
from dragonrec.recommender.services.impressions import impression_record_build, impressions_write
from dragonrec.recommender.services.partitions import served_partitions, served_partitions_ensure
from dragonrec.recommender.services.privacy import shopper_data_erase
from dragonrec.recommender.services.retention import retention_apply
from dragonrec.tracking.factories import EventFactory
from tests.served_lists import stored_list as served

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)


def stored_list(shop: Any, *, session_id: str, age: timedelta = timedelta(0), experiment: str = "") -> uuid.UUID:
    """A list of four: mixed sources (one a host's own), two explored slots."""
    items = [
        (shop["monitor"].pk, 0.9, "embedding", 1.0),
        (shop["keyboard"].pk, 0.7, "complements", 1.0),
        (shop["kettle"].pk, 0.5, "trending", 0.25),
        (shop["pan"].pk, 0.25, "my-own-source", 0.5),
    ]
    return served(
        items, session_id=session_id, age=age, ranker="student", model_version="v3", experiment=experiment,
        arm="a" if experiment else "",
    )  # fmt: skip


def test_a_stored_list_round_trips_items_scores_propensities_sources_and_outcomes(tiny_shop) -> None:  # type: ignore[no-untyped-def]
    # given a stored list of four
    request_id = stored_list(tiny_shop, session_id="s-rt")
    served = ServedList.objects.get(request_id=request_id)
    # when the shopper clicks the 2nd and 3rd items, then carts and buys the 2nd
    clicked_at = timezone.now()
    clicks = [
        EventFactory(session_id="s-rt", product=tiny_shop[key], type="click", timestamp=clicked_at,
                     context={"request_id": str(request_id), "position": position})
        for key, position in (("keyboard", 2), ("kettle", 3), ("pan", 3))  # the last names the wrong product
    ]  # fmt: skip
    assert clicks_attribute(events=clicks) >= 0
    EventFactory(session_id="s-rt", product=tiny_shop["keyboard"], type="add_to_cart", timestamp=clicked_at + DAY / 48)
    EventFactory(session_id="s-rt", product=tiny_shop["keyboard"], type="purchase", timestamp=clicked_at + DAY / 24)
    rewards_attribute()
    # then: one row for the list, three outcomes for the clicked item, one for the other
    assert ServedList.objects.filter(request_id=request_id).count() == 1
    assert ServedOutcome.objects.filter(request_id=request_id).count() == 4
    items = served_items([served])[request_id]
    assert [(i.position, i.product_id) for i in items] == [
        (1, tiny_shop["monitor"].pk),
        (2, tiny_shop["keyboard"].pk),
        (3, tiny_shop["kettle"].pk),
        (4, tiny_shop["pan"].pk),
    ]
    assert [i.score for i in items] == [pytest.approx(s) for s in (0.9, 0.7, 0.5, 0.25)]
    assert [i.propensity for i in items] == [1.0, 1.0, 0.25, 0.5]
    assert [i.source for i in items] == ["embedding", "complements", "trending", "other"]
    assert [i.clicked_at is not None for i in items] == [False, True, True, False]
    assert items[1].carted_at == clicked_at + DAY / 48 and items[1].purchased_at == clicked_at + DAY / 24
    assert items[2].carted_at is None and [i.reward for i in items] == [0.0, 1.0, 0.2, 0.0]
    assert served.policy.ranker == "student" and served.policy.model_version == "v3"


def test_a_list_holding_an_id_beyond_int4_keeps_every_id_and_its_outcomes(tiny_shop) -> None:  # type: ignore[no-untyped-def]
    # given a shop whose product ids outgrew int4, and a list mixing such an id with a usual one (packed 8 bytes an id)
    big = ProductFactory(id=2**33 + 5, category=tiny_shop["monitor"].category)
    request_id = served(
        [(tiny_shop["pan"].pk, 0.5, "trending", 1.0), (big.pk, 0.4, "embedding", 1.0)], session_id="s-big"
    )
    # when the shopper clicks and buys the big id's item
    at = timezone.now()
    click = EventFactory(session_id="s-big", product=big, type="click", timestamp=at,
                         context={"request_id": str(request_id), "position": 2})  # fmt: skip
    clicks_attribute(events=[click])
    EventFactory(session_id="s-big", product=big, type="purchase", timestamp=at + DAY / 24, value=30)
    rewards_attribute()
    # then: the ids read back exactly, and both outcomes name the big id's position
    served_list = ServedList.objects.get(request_id=request_id)
    assert served_list.item_ids == [tiny_shop["pan"].pk, 2**33 + 5]
    items = served_items([served_list])[request_id]
    assert [(i.product_id, i.clicked_at, i.purchased_at) for i in items] == [
        (tiny_shop["pan"].pk, None, None),
        (2**33 + 5, at, at + DAY / 24),
    ]


def test_lists_of_the_same_policy_share_one_policy_row_and_a_rewrite_changes_nothing(tiny_shop) -> None:  # type: ignore[no-untyped-def]
    first = stored_list(tiny_shop, session_id="s-p1")
    second = stored_list(tiny_shop, session_id="s-p2")
    other = stored_list(tiny_shop, session_id="s-p3", experiment="exp")
    policies = dict(ServedList.objects.values_list("request_id", "policy_id"))
    assert policies[first] == policies[second] != policies[other]
    record = ServedList.objects.get(request_id=first)
    # the flush writing a batch again (a requeued batch) keeps one row per list
    impressions_write(
        [
            {
                **impression_record_build(
                    request_id=first, user_id=None, session_id="s-p1", scenario="home", anchor_ids=[],
                    ranker="student", model_version="v3", context={}, items=[(tiny_shop["pan"].pk, 1, 0.1, "", 1.0)],
                ),
                "created_at": record.served_at.isoformat(),
            }
        ]
    )  # fmt: skip
    assert ServedList.objects.get(request_id=first).item_ids == record.item_ids


def test_partitions_exist_ahead_and_retention_drops_whole_old_days_but_a_running_experiments(tiny_shop) -> None:  # type: ignore[no-untyped-def]
    # given lists 200, 199 and 100 days old (the first two in their own new partitions), one of a running experiment
    old = stored_list(tiny_shop, session_id="s-old", age=200 * DAY)
    running = stored_list(tiny_shop, session_id="s-exp", age=199 * DAY, experiment="still-on")
    Experiment.objects.create(name="still-on", status=Experiment.Status.RUNNING)
    recent = stored_list(tiny_shop, session_id="s-new", age=100 * DAY)
    old_day = ServedList.objects.get(request_id=old).served_at.astimezone(UTC).date()
    assert old_day in served_partitions()[ServedList._meta.db_table]
    # when retention runs (lists: 180 days)
    with override_settings(RECOMMENDER={**settings.RECOMMENDER, "RETENTION": {"impressions_days": 180}}):
        retention_apply()
    # then: the old day's partitions are gone from both tables, the experiment's day and the recent list stay
    days = served_partitions()
    assert old_day not in days[ServedList._meta.db_table] and old_day not in days[ServedOutcome._meta.db_table]
    assert set(ServedList.objects.values_list("request_id", flat=True)) == {running, recent}
    # and the beat task keeps today and the next three days ready
    served_partitions_ensure()
    today = timezone.now().astimezone(UTC).date()
    assert {today + i * DAY for i in range(4)} <= set(served_partitions()[ServedList._meta.db_table])


def test_erasing_a_shopper_removes_their_lists_and_outcomes_across_partitions(tiny_shop) -> None:  # type: ignore[no-untyped-def]
    # given the shopper's lists on three days (one clicked) and another shopper's list
    mine = [stored_list(tiny_shop, session_id="s-erase", age=age * DAY) for age in (0, 3, 40)]
    theirs = stored_list(tiny_shop, session_id="s-keep", age=3 * DAY)
    click = EventFactory(session_id="s-erase", product=tiny_shop["monitor"], type="click",
                         context={"request_id": str(mine[0]), "position": 1})  # fmt: skip
    clicks_attribute(events=[click])
    assert ServedOutcome.objects.filter(request_id=mine[0]).exists()
    # when
    report = shopper_data_erase(user_id=None, session_id="s-erase")
    # then
    assert report.impressions == 3
    left = set(ServedList.objects.values_list("request_id", flat=True))
    assert theirs in left and not left & set(mine)
    assert not ServedOutcome.objects.filter(request_id__in=mine).exists()
