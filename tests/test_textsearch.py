"""The search text helpers: one normalisation for both sides, and the typo path's vocabulary."""

from __future__ import annotations

from dragonrec.textsearch import Vocabulary, normalize, tsquery_text, words


def test_fullwidth_case_and_invisible_characters_normalise_to_the_plain_word() -> None:
    plain = normalize("monitor")
    assert normalize("\uff4d\uff4f\uff4e\uff49\uff54\uff4f\uff52") == plain  # fullwidth
    assert normalize("MONITOR") == plain
    assert normalize("mon\u00aditor") == plain  # soft hyphen
    assert normalize("mon\u200bi\u2060tor\ufeff") == plain  # zero-width space, word joiner, BOM
    assert normalize("  coffee \t\n maker ") == "coffee maker"
    assert words("USB-C Hub, 4-Port") == ["usb", "c", "hub", "4", "port"]


def test_misspelt_words_are_corrected_to_the_most_used_catalog_word() -> None:
    vocabulary = Vocabulary.from_texts(
        ["Lumora 27-Inch Monitor", "Pixelon Monitor", "Drip Coffee Maker", "Coffee Beans", "Mechanical Keyboard"]
    )
    assert vocabulary.correct("moniter") == "monitor"
    assert vocabulary.correct("coffe") == "coffee"
    assert vocabulary.correct("keybaord") == "keyboard"  # a transposition is one edit
    assert vocabulary.correct("monitor") is None  # known
    assert vocabulary.correct("mat") is None  # too short to guess
    assert vocabulary.correct("xqzvbn") is None  # nothing close
    assert vocabulary.correct_query("Coffe MAKER") == "coffee maker"
    assert vocabulary.complete("co") == ["coffee"]
    assert vocabulary.complete("m", limit=2) == ["monitor", "maker"]


def test_the_tsquery_requires_every_word_and_offers_the_correction_and_the_prefix() -> None:
    assert tsquery_text(["coffe", "mak"], alternatives={"coffe": "coffee"}, prefix=True) == (
        "('coffe' | 'coffee') & ('mak' | 'mak':*)"
    )
    assert tsquery_text(["monitor"], prefix=False) == "('monitor')"
