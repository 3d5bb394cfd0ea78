from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from dragonrec.recommender.models import TeacherJudgment
from dragonrec.tracking.factories import EventFactory

pytestmark = pytest.mark.django_db


def test_build_judges_real_and_edge_case_histories_then_exports_text(tiny_shop, llm_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from django_redis import get_redis_connection

    get_redis_connection("default").flushdb()
    cache.clear()
    start = timezone.now() - timedelta(hours=1)
    for i, key in enumerate(["monitor", "cable", "keyboard", "shoe_road", "socks_run"]):
        EventFactory(
            session_id="s-d",
            product=tiny_shop[key],
            type="add_to_cart" if i == 1 else "view",
            timestamp=start + timedelta(minutes=i),
        )
    out = tmp_path / "teacher.jsonl"
    settings = {"TEACHER_BASE_URL": llm_server.base_url, "TEACHER_MODEL": "fake", "SNAPSHOT_TTL_S": 0}
    with override_settings(RECOMMENDER=settings):
        call_command("recommender_build_teacher_dataset", "--histories", "10", "--sync", "--export", str(out))
    judgments = TeacherJudgment.objects.filter(source="dataset")
    assert judgments.count() == 10 and not judgments.exclude(error="").exists()
    assert any(j.history == [] for j in judgments)  # the cold-start edge case
    assert any(len(j.history) == 20 for j in judgments)  # the bot-like burst
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(lines) == 10
    assert any(line["input"].startswith("User viewed") for line in lines)
    assert all(line["output"].startswith("Recommend: ") for line in lines)


def test_budget_stops_queuing(tiny_shop, llm_server) -> None:  # type: ignore[no-untyped-def]
    EventFactory(session_id="s-b", product=tiny_shop["monitor"])
    settings = {"TEACHER_BASE_URL": llm_server.base_url, "SNAPSHOT_TTL_S": 0}
    with override_settings(RECOMMENDER=settings):
        call_command("recommender_build_teacher_dataset", "--histories", "5", "--sync", "--max-cost", "0")
    assert TeacherJudgment.objects.count() == 0 and llm_server.request_count == 0
