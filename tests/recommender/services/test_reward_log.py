"""The reward log export: the seed shape exactly, the full shape with propensities, streamed in order."""

from __future__ import annotations

import ast
import io
import json
import uuid
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from dragonrec.catalog.factories import ProductFactory
from dragonrec.recommender.services import reward_log
from dragonrec.recommender.services.impressions import impression_record_build, impressions_write
from dragonrec.tracking.factories import EventFactory
from tests.served_lists import served_outcomes

pytestmark = pytest.mark.django_db


@pytest.fixture
def logged():  # type: ignore[no-untyped-def]
    """Three served lists: one clicked then bought, one carted, one ignored."""
    p = {n: ProductFactory(sku=f"prod_{n}") for n in (13, 21, 31, 45, 52)}
    ids = {n: product.pk for n, product in p.items()}
    lists = []
    for k, (history, shown) in enumerate([((21, 13), (31, 45)), ((31,), (52, 13)), ((), (21, 45))]):
        record = impression_record_build(
            request_id=uuid.uuid4(),
            user_id=None,
            session_id=f"s-{k}",
            scenario="home",
            anchor_ids=[],
            ranker="student:v3",
            model_version="v3",
            context={"user_key": f"s:s-{k}", "history": [[ids[h], "view"] for h in history]},
            items=[(ids[s], pos, 1.0 / pos, "student", 1.0 if pos == 1 else 0.25) for pos, s in enumerate(shown, 1)],
            policy={"ranker": "student:v3", "model_version": "v3", "exploration": {"enabled": True}},
        )
        served_at = timezone.now() - timedelta(minutes=10 - k)
        record["created_at"] = served_at.isoformat()
        # what the list was made from: the shopper's events before it (an event after it is not part of it)
        for ago, h in enumerate(reversed(history), start=1):
            EventFactory(
                session_id=f"s-{k}", product_id=ids[h], type="view", timestamp=served_at - timedelta(seconds=ago)
            )
        EventFactory(session_id=f"s-{k}", product_id=ids[52], type="view", timestamp=served_at + timedelta(seconds=1))
        lists.append(record)
    impressions_write(lists)
    now = timezone.now()
    first, second = lists[0]["request_id"], lists[1]["request_id"]
    served_outcomes(first, 2, clicked_at=now, purchased_at=now)
    served_outcomes(first, 1, clicked_at=now)
    served_outcomes(second, 1, clicked_at=now, carted_at=now)
    return lists


def test_the_seed_format_is_exactly_the_designs_shape(logged) -> None:  # type: ignore[no-untyped-def]
    out = io.StringIO()
    assert reward_log.reward_log_export(out=out, fmt="seed") == 3
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert lines == [
        {
            "user_browsing_history": "['prod_21', 'prod_13']",
            "llm_recommendations": "['prod_31', 'prod_45']",
            "user_action": "purchased prod_45",  # the strongest action wins over the higher-placed click
        },
        {
            "user_browsing_history": "['prod_31']",
            "llm_recommendations": "['prod_52', 'prod_13']",
            "user_action": "added prod_52 to cart",
        },
        {"user_browsing_history": "[]", "llm_recommendations": "['prod_21', 'prod_45']", "user_action": "no action"},
    ]
    # round trip: the strings parse back to the lists that were served
    assert [ast.literal_eval(line["llm_recommendations"]) for line in lines] == [
        ["prod_31", "prod_45"],
        ["prod_52", "prod_13"],
        ["prod_21", "prod_45"],
    ]


def test_the_full_format_has_policy_propensities_and_outcomes(logged, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(reward_log, "CHUNK", 2)  # streams across pages without losing or repeating a list
    path = tmp_path / "log.jsonl"
    call_command("recommender_export_interactions", "--format", "jsonl", "--out", str(path))
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert [r["request_id"] for r in rows] == [r["request_id"] for r in logged]
    first = rows[0]
    assert first["policy"]["exploration"] == {"enabled": True} and first["shopper"] == "s:s-0"
    assert [i["propensity"] for i in first["items"]] == [1.0, 0.25]
    assert first["items"][1]["purchased_at"] and first["items"][0]["clicked_at"] and not first["items"][0]["carted_at"]
    assert [h["product"] for h in first["history"]] == ["prod_21", "prod_13"]


def test_since_and_until_select_a_window(logged, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "window.jsonl"
    since = (timezone.now() - timedelta(minutes=9, seconds=30)).isoformat()
    call_command("recommender_export_interactions", "--since", since, "--out", str(path))
    assert len(path.read_text().splitlines()) == 2
    with pytest.raises(Exception, match="not a date"):
        call_command("recommender_export_interactions", "--since", "yesterday", "--out", str(path))
