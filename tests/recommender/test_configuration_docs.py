"""docs/configuration.md documents every RECOMMENDER key of `conf.DEFAULTS` (and nothing that is not one), with the
keys of nested settings (EXPLORATION's per-scenario options, SCENARIO_RERANK's overrides...) named in their row:
a shop developer reads the doc, not conf.py."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from dragonrec.recommender.conf import DEFAULTS

DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"
KEY = re.compile(r"`([A-Z][A-Z0-9_]+)`")


def documented_rows() -> dict[str, str]:
    """Key -> its table row, for the rows of the RECOMMENDER section (a row may document several keys)."""
    section = DOC.read_text().split("## `RECOMMENDER", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, str] = {}
    for line in section.splitlines():
        if not line.startswith("| `"):
            continue
        first_cell = line.split("|")[1]
        for key in KEY.findall(first_cell):
            rows[key] = line
    return rows


def nested_keys(default: Any) -> set[str]:
    """The option names inside a nested setting: the keys of its dict values (EXPLORATION's "pool", ...)."""
    if not isinstance(default, dict):
        return set()
    return {str(k) for value in default.values() if isinstance(value, dict) for k in value}


def undocumented(defaults: dict[str, Any]) -> list[str]:
    return sorted(set(defaults) - set(documented_rows()))


def test_every_recommender_key_is_documented() -> None:
    missing = undocumented(DEFAULTS)
    assert not missing, f"docs/configuration.md's RECOMMENDER table lacks these keys of conf.DEFAULTS: {missing}"


def test_the_doc_names_no_key_that_does_not_exist() -> None:
    unknown = sorted(set(documented_rows()) - set(DEFAULTS))
    assert not unknown, f"docs/configuration.md documents RECOMMENDER keys that conf.DEFAULTS does not have: {unknown}"


def test_nested_options_are_named_in_their_row() -> None:
    rows = documented_rows()
    missing = {
        key: sorted(k for k in nested_keys(default) if not re.search(rf"\b{re.escape(k)}\b", rows.get(key, "")))
        for key, default in DEFAULTS.items()
    }
    missing = {key: names for key, names in missing.items() if names}
    assert not missing, f"docs/configuration.md does not name these nested options in their key's row: {missing}"


def test_the_check_names_exactly_the_keys_a_developer_added_without_a_doc_row() -> None:
    # keys documented together in one row ("`FATIGUE_IMPRESSIONS`, `FATIGUE_DAYS`, ...") all count
    assert {"FATIGUE_IMPRESSIONS", "FATIGUE_DAYS", "FATIGUE_LOOKBACK"} <= set(documented_rows())
    assert undocumented({**DEFAULTS, "ONLINE_UPDATE_EVERY_S": 3600}) == ["ONLINE_UPDATE_EVERY_S"]
