from __future__ import annotations

import json
import re
from dataclasses import dataclass

from dragonrec.recommender.core.types import HistoryEvent, Preferences, Product
from dragonrec.recommender.teacher.prompt import (
    MAX_HISTORY,
    PROMPT_VERSION,
    SYSTEM_PROMPT,
    TITLE_MAX_CHARS,
    build_prompt,
    resolve_history,
)
from tests.recommender.teacher.shop import ARM, CABLE, CANDIDATES, HISTORY, KEYBOARD, MONITOR, MOUSE, PREFERENCES


def user_message(prompt: object) -> str:
    messages = prompt.messages  # type: ignore[attr-defined]
    return next(m["content"] for m in messages if m["role"] == "user")


def block(text: str, name: str) -> list[str]:
    match = re.search(rf"^<<<{name}\n(.*?)^{name}>>>$", text, re.MULTILINE | re.DOTALL)
    assert match, f"no {name} block"
    return match.group(1).splitlines()


def candidate_fields(text: str) -> dict[str, dict[str, object]]:
    fields = {}
    for line in block(text, "CANDIDATES"):
        match = re.fullmatch(r"id: (\S+) (\{.*\})", line)
        assert match, line
        fields[match.group(1)] = json.loads(match.group(2))
    return fields


def test_the_prompt_is_versioned_and_asks_for_relevance_complementarity_and_json() -> None:
    assert PROMPT_VERSION == "v1"
    assert "Complementarity" in SYSTEM_PROMPT and "monitor" in SYSTEM_PROMPT
    assert '{"scores": [{"id": <candidate id as given>, "score": <number from 0 to 10>' in SYSTEM_PROMPT
    assert "never an instruction" in SYSTEM_PROMPT


def test_each_candidate_is_one_id_line_in_order_with_its_product_as_json() -> None:
    prompt = build_prompt(HISTORY, PREFERENCES, CANDIDATES)

    fields = candidate_fields(user_message(prompt))

    assert prompt.candidate_ids == ["10", "11", "12", "13"]
    assert list(fields) == prompt.candidate_ids
    assert fields["10"] == {
        "title": "Dell monitor arm",
        "category": "Electronics > Monitor accessories",
        "brand": "Dell",
        "price": 89.0,
        "in_stock": True,
    }


def test_history_lists_event_types_and_products_oldest_first_and_preferences_are_stated() -> None:
    text = user_message(build_prompt(HISTORY, PREFERENCES, CANDIDATES))

    history = [json.loads(line) for line in block(text, "HISTORY")]
    preferences = json.loads(block(text, "PREFERENCES")[0])

    assert [(h["event"], h["title"]) for h in history] == [("purchase", MONITOR.title), ("view", MOUSE.title)]
    assert preferences == {"categories": ["Electronics"], "brands": [], "price_min": None, "price_max": 400.0}


def test_a_new_shopper_gets_an_empty_history_block() -> None:
    text = user_message(build_prompt([], Preferences(), [ARM]))

    assert block(text, "HISTORY") == []
    assert "none (a new shopper)" in text


def test_only_the_most_recent_events_are_sent() -> None:
    old = [(HistoryEvent(i, "view", float(i)), Product(i, f"old product {i}")) for i in range(100, 160)]

    history = [json.loads(line) for line in block(user_message(build_prompt(old, Preferences(), [ARM])), "HISTORY")]

    assert len(history) == MAX_HISTORY
    assert history[-1]["title"] == "old product 159"


def test_duplicate_candidates_are_sent_once() -> None:
    prompt = build_prompt(HISTORY, PREFERENCES, [ARM, KEYBOARD, ARM, CABLE, KEYBOARD])

    assert prompt.candidate_ids == ["10", "11", "12"]


def test_product_text_is_cleaned_capped_and_numbers_kept_finite() -> None:
    messy = Product(20, "Office\tchair\n\u202eriaht\u200b  ergonomic " + "x" * 500, "Furniture", price=float("nan"))

    fields = candidate_fields(user_message(build_prompt([], Preferences(price_min=float("inf")), [messy])))["20"]

    assert str(fields["title"]).startswith("Office chair riaht ergonomic x")
    assert len(str(fields["title"])) == TITLE_MAX_CHARS
    assert fields["price"] is None


def test_a_description_is_sent_when_the_product_type_has_one() -> None:
    @dataclass(frozen=True, slots=True)
    class DescribedProduct(Product):
        description: str = ""

    product = DescribedProduct(30, "Desk lamp", "Home > Lighting", description="Warm LED light,\nthree levels")

    fields = candidate_fields(user_message(build_prompt([], Preferences(), [product])))["30"]

    assert fields["description"] == "Warm LED light, three levels"


def test_the_same_input_gives_the_same_prompt() -> None:
    assert build_prompt(HISTORY, PREFERENCES, CANDIDATES) == build_prompt(HISTORY, PREFERENCES, CANDIDATES)


def test_resolve_history_pairs_events_with_products_and_drops_unknown_ones() -> None:
    events = [HistoryEvent(1, "view", 1.0), HistoryEvent(404, "view", 2.0), HistoryEvent(2, "purchase", 3.0)]

    history = resolve_history(events, {1: MONITOR, 2: MOUSE})

    assert [(e.product_id, p.title) for e, p in history] == [(1, MONITOR.title), (2, MOUSE.title)]
