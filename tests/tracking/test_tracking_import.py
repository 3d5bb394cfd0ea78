from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command

from dragonrec.catalog.factories import ProductFactory
from dragonrec.tracking.models import Event
from dragonrec.tracking.selectors import history_recent
from dragonrec.tracking.services import tracking_import

pytestmark = pytest.mark.django_db


def test_import_is_idempotent_and_reports_bad_rows(tmp_path: Path) -> None:
    ProductFactory(sku="A")
    ProductFactory(sku="B")
    path = tmp_path / "events.csv"
    path.write_text(
        "user_id,item_id,event_type,timestamp\n"
        "u1,A,rating,0\n"
        "u1,B,rating,1\n"
        "u1,ZZZ,rating,2\n"
        "u2,A,teleport,0\n"
        "u2,A,view,2026-01-01T10:00:00Z\n"
        "u2,B,view,yesterday\n"
    )
    first = tracking_import(path=path)
    second = tracking_import(path=path)
    assert (first.created, first.users_created) == (3, 2)
    assert {e.line: e.reason for e in first.errors} == {
        4: "unknown product sku 'ZZZ'",
        5: "unknown event type 'teleport'",
        7: "bad timestamp 'yesterday'",
    }
    assert (second.created, second.duplicates) == (0, 3)
    assert Event.objects.count() == 3
    u1 = Event.objects.filter(user__username="u1").first().user
    assert [t for _, t, _ in history_recent(user_id=u1.id)] == ["rating", "rating"]


def test_missing_columns(tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_text("user,item\nu1,A\n")
    report = tracking_import(path=path)
    assert "missing columns" in report.errors[0].reason


def test_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ProductFactory(sku="A")
    path = tmp_path / "events.csv"
    path.write_text("user_id,item_id,event_type,timestamp\nu1,A,purchase,5\n")
    call_command("tracking_import", str(path), "--no-progress")
    assert "1 created, 0 duplicates, 0 rejected, 1 users created" in capsys.readouterr().out


def test_rows_with_a_nul_or_undecodable_bytes_are_row_errors(tmp_path: Path) -> None:
    ProductFactory(sku="A")
    path = tmp_path / "events.csv"
    path.write_bytes(
        b"user_id,item_id,event_type,timestamp\nu1,A,view,0\nu\x002,A,view,1\nu\xff3,A,view,2\nu4,A,view,3\n"
    )
    report = tracking_import(path=path)
    assert Event.objects.count() == 2
    assert [(e.line, e.reason.split(":")[0]) for e in report.errors] == [(3, "user_id"), (4, "user_id")]
