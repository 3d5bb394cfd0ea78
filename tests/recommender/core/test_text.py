from __future__ import annotations

from dragonrec.recommender.core.text import product_text


def test_product_text_orders_fields_and_skips_missing_ones() -> None:
    text = product_text(title="OPI Nail Lacquer", brand="OPI", category="Makeup > Nails > Nail Polish")

    assert text == "OPI Nail Lacquer. Brand: OPI. Category: Makeup > Nails > Nail Polish."
    assert product_text(title=None, brand=None, category="Tools") == "Category: Tools."


def test_product_text_truncates_at_a_word_boundary_and_keeps_the_title() -> None:
    text = product_text(title="Kettle  1.7 L", description="word " * 500, max_chars=100)

    assert len(text) <= 100
    assert text.startswith("Kettle 1.7 L.")
    assert not text.endswith("wor")
