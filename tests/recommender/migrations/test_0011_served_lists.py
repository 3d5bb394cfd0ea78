"""Migration 0011 converts served lists from the old per-item tables into the compact storage: every list, its
items in shown order, scores, propensities, sources, its policy (deduplicated) and its outcomes."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from dragonrec.recommender.models import ServedList, ServedOutcome, ServingPolicy
from dragonrec.recommender.selectors import served_items

BEFORE = [("dragonrec_recommender", "0010_aggregates_incremental")]
AFTER = [("dragonrec_recommender", "0011_served_lists")]


def migrate(targets: list[tuple[str, str]]) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


@pytest.fixture
def at_0010(transactional_db: None) -> Iterator[None]:
    migrate(BEFORE)
    yield
    executor = MigrationExecutor(connection)
    migrate(executor.loader.graph.leaf_nodes())


def test_the_conversion_keeps_every_list_its_items_in_order_and_its_outcomes(at_0010, tiny_shop) -> None:  # type: ignore[no-untyped-def]
    # given: two lists of one policy in the old tables (one of a signed-in user, one with a gap where a deleted
    # product's item was dropped), and a list of an experiment's arm
    user = get_user_model().objects.create(username="conv")
    served_at = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
    clicked = served_at + timedelta(minutes=2)
    policy = {"ranker": "student", "model_version": "v2", "exploration": {"slots": 3}}
    lists = [
        (uuid.uuid4(), user.pk, "s-a", "", "", [tiny_shop["monitor"].pk]),
        (uuid.uuid4(), None, "s-b", "", "", []),
        (uuid.uuid4(), None, "s-c", "exp", "b", []),
    ]
    items = {  # position: (product, score, source, propensity, clicked, carted, purchased)
        lists[0][0]: {1: ("keyboard", 0.9, "embedding", 1.0, clicked, clicked + timedelta(minutes=1), None),
                      2: ("mouse", 0.8, "host-source", 0.5, None, None, None),
                      3: ("cable", 0.7, "trending", 0.25, clicked, None, clicked + timedelta(minutes=9))},
        lists[1][0]: {1: ("kettle", 0.6, "similar", 1.0, None, None, None),
                      4: ("pan", 0.5, "complements", 1.0, clicked, None, None)},
        lists[2][0]: {1: ("pan", 0.4, "trending", 1.0, None, None, None)},
    }  # fmt: skip
    with connection.cursor() as cursor:
        for request_id, user_id, session_id, experiment, arm, anchors in lists:
            cursor.execute(
                "INSERT INTO dragonrec_recommender_impression (request_id, created_at, user_id, session_id, scenario,"
                " anchor_ids, ranker, model_version, experiment, arm, policy, context)"
                " VALUES (%s, %s, %s, %s, 'home', %s, 'student', 'v2', %s, %s, %s, %s)",
                [request_id, served_at, user_id, session_id, json.dumps(anchors), experiment, arm,
                 json.dumps(policy), json.dumps({"history": [[1, "view"]]})],
            )  # fmt: skip
            for position, (key, score, source, p, click, cart, buy) in items[request_id].items():
                cursor.execute(
                    "INSERT INTO dragonrec_recommender_impressionitem (impression_id, product_id, position, score,"
                    " source, propensity, clicked_at, carted_at, purchased_at) VALUES (%s, %s, %s, %s, %s, %s, %s,"
                    " %s, %s)",
                    [request_id, tiny_shop[key].pk, position, score, source, p, click, cart, buy],
                )
    # when (then on to the latest schema: the checks read through today's models, e.g. 0013's packed item ids)
    migrate(AFTER)
    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    # then: every list, one policy row per distinct policy
    stored = {sl.request_id: sl for sl in ServedList.objects.select_related("policy")}
    assert set(stored) == {row[0] for row in lists}
    assert ServingPolicy.objects.count() == 2
    first, second, third = (stored[row[0]] for row in lists)
    assert first.policy_id == second.policy_id != third.policy_id
    assert (third.policy.experiment, third.policy.arm, first.policy.policy) == ("exp", "b", policy)
    assert first.user_id == user.pk and first.session_id == "s-a" and first.served_at == served_at
    assert first.anchor_ids == [tiny_shop["monitor"].pk] and second.anchor_ids is None
    # items in shown order with their scores, sources, propensities (all 1.0: stored as NULL) and outcomes
    got = served_items(stored.values())
    assert [(i.product_id, i.source, i.propensity) for i in got[first.request_id]] == [
        (tiny_shop["keyboard"].pk, "embedding", 1.0),
        (tiny_shop["mouse"].pk, "other", 0.5),
        (tiny_shop["cable"].pk, "trending", 0.25),
    ]
    assert [i.score for i in got[first.request_id]] == [pytest.approx(s) for s in (0.9, 0.8, 0.7)]
    assert second.propensities is None
    assert [(i.clicked_at, i.carted_at, i.purchased_at) for i in got[first.request_id]] == [
        (clicked, clicked + timedelta(minutes=1), None),
        (None, None, None),
        (clicked, None, clicked + timedelta(minutes=9)),
    ]
    # the gap closes: the pan was shown 4th, is now 2nd, and its click moved with it
    assert [(i.position, i.product_id, i.clicked_at) for i in got[second.request_id]] == [
        (1, tiny_shop["kettle"].pk, None),
        (2, tiny_shop["pan"].pk, clicked),
    ]
    assert ServedOutcome.objects.count() == 5
