from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from dragonrec.catalog.models import Category, Product
from dragonrec.catalog.services import catalog_import

pytestmark = pytest.mark.django_db


def write_jsonl(path: Path, rows: list[dict | str]) -> Path:
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n")
    return path


GOOD = [
    {
        "item_id": "MON-1",
        "title": "27in Monitor",
        "brand": "Lumora",
        "category": "Electronics > Monitors",
        "description": "IPS panel",
        "price": 249.99,
    },
    {
        "item_id": "KEY-1",
        "title": "Mechanical Keyboard",
        "brand": "Keyforge",
        "category": "Electronics > Keyboards",
        "description": None,
    },
]


def test_import_creates_products_and_category_tree(tmp_path: Path) -> None:
    # when
    report = catalog_import(path=write_jsonl(tmp_path / "items.jsonl", GOOD))
    # then
    assert (report.created, report.updated, report.errors) == (2, 0, [])
    monitor = Product.objects.get(sku="MON-1")
    assert monitor.category.path == "Electronics > Monitors"
    assert monitor.category.parent.path == "Electronics"
    assert str(monitor.price) == "249.99"
    assert Category.objects.filter(path="Electronics").count() == 1


def test_import_is_an_idempotent_upsert(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "items.jsonl", GOOD)
    catalog_import(path=path)
    stamp = Product.objects.get(sku="MON-1").updated_at
    # when: the same file again, then a changed title
    again = catalog_import(path=path)
    changed = catalog_import(path=write_jsonl(tmp_path / "b.jsonl", [{**GOOD[0], "title": "27in Monitor v2"}]))
    # then
    assert (again.created, again.updated) == (0, 0)
    assert Product.objects.count() == 2
    assert (changed.created, changed.updated) == (0, 1)
    monitor = Product.objects.get(sku="MON-1")
    assert monitor.title == "27in Monitor v2"
    assert monitor.updated_at > stamp


def test_bad_rows_are_reported_with_line_numbers_and_good_rows_imported(tmp_path: Path) -> None:
    rows: list[dict | str] = [
        GOOD[0],
        "{not json",
        {"item_id": "X-1"},
        {"item_id": "X-2", "title": "Cable", "price": "cheap"},
        {"item_id": "X-3", "title": "Cable", "price": -1},
        {"item_id": "MON-1", "title": "dup"},
        GOOD[1],
    ]
    report = catalog_import(path=write_jsonl(tmp_path / "items.jsonl", rows))
    assert report.created == 2
    reasons = {e.line: e.reason for e in report.errors}
    assert set(reasons) == {2, 3, 4, 5, 6}
    assert "invalid JSON" in reasons[2]
    assert "missing title" in reasons[3]
    assert "price is not a number" in reasons[4]
    assert "non-negative" in reasons[5]
    assert "duplicate sku" in reasons[6] and "line 1" in reasons[6]


def test_strict_aborts_without_writing_anything(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "items.jsonl", [GOOD[0], {"item_id": "BAD"}, GOOD[1]])
    with pytest.raises(CommandError, match="nothing was written"):
        call_command("catalog_import", str(path), "--strict", "--no-progress")
    assert Product.objects.count() == 0


def test_csv_import_with_stock(tmp_path: Path) -> None:
    path = tmp_path / "items.csv"
    path.write_text(
        "item_id,title,brand,category,description,price,stock\n"
        "C-1,USB-C Cable 2m,Linkly,Electronics > Cables,,9.50,0\n"
        "C-2,HDMI Cable,Linkly,Electronics > Cables,,x,3\n"
    )
    report = catalog_import(path=path)
    assert report.created == 1
    assert report.errors[0].line == 3
    cable = Product.objects.get(sku="C-1")
    assert cable.in_stock is False and cable.stock_quantity == 0


def test_command_prints_summary_and_row_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_jsonl(tmp_path / "items.jsonl", [GOOD[0], {"item_id": "BAD"}])
    call_command("catalog_import", str(path), "--no-progress")
    out, err = capsys.readouterr()
    assert "1 created, 0 updated, 1 rejected" in out
    assert f"{path}:2: missing title" in err


def test_imports_the_shared_dataset_format(tmp_path: Path, shared_data: Path) -> None:
    # the first 300 lines of a real dataset file import cleanly
    lines = (shared_data / "amazon_scientific" / "items.jsonl").read_text().splitlines()[:300]
    path = tmp_path / "items.jsonl"
    path.write_text("\n".join(lines) + "\n")
    report = catalog_import(path=path)
    assert report.created + len(report.errors) == 300
    assert report.created >= 290


@pytest.mark.parametrize("bad", ["Mon\u0000itor", "Mon\ud800itor"], ids=["nul", "lone-surrogate"])
def test_a_row_with_text_postgres_cannot_store_is_a_row_error_not_a_crash(tmp_path: Path, bad: str) -> None:
    # given a JSONL file whose second row carries a NUL or a lone surrogate (as JSON escapes), in a nested key too
    rows = [GOOD[0], {"item_id": "BAD-1", "title": bad}, {"item_id": "BAD-2", "title": "ok", "attributes": {bad: 1}}]
    report = catalog_import(path=write_jsonl(tmp_path / "items.jsonl", rows))
    # then the good row is imported and each bad one is reported with its line, field and reason
    assert report.created == 1 and Product.objects.filter(sku="MON-1").exists()
    reasons = {(e.line, e.reason) for e in report.errors}
    problem = "contains a NUL character" if "\u0000" in bad else "contains a lone UTF-16 surrogate"
    assert any(line == 2 and reason.startswith(f"title: {problem}") for line, reason in reasons), reasons
    assert any(line == 3 and reason.startswith(f"attributes: a key {problem}") for line, reason in reasons), reasons


def test_csv_bytes_that_are_not_utf8_or_nul_reject_their_row_only(tmp_path: Path) -> None:
    path = tmp_path / "items.csv"
    path.write_bytes(b"sku,title\nA-1,Kettle\nA-2,Ket\x00tle\nA-3,Ket\xfftle\nA-4,Pan\n")
    report = catalog_import(path=path)
    assert report.created == 2 and set(Product.objects.values_list("sku", flat=True)) == {"A-1", "A-4"}
    assert [(e.line, e.sku) for e in report.errors] == [(3, "A-2"), (4, "A-3")]
    assert report.errors[1].reason == "title: contains a lone UTF-16 surrogate (not valid Unicode text)"
