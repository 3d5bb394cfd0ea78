"""Category paths: one separator, and "in a category" means at or below it, never a mere string prefix."""

from __future__ import annotations

from dragonrec.categories import category_leaf, category_path, category_within


def test_paths_are_normalised_from_loose_input() -> None:
    assert category_path(["Electronics>Monitors "]) == "Electronics > Monitors"
    assert category_path(["", "Home", " > Kitchen >  > Kettles"]) == "Home > Kitchen > Kettles"
    assert category_path([""]) == ""


def test_within_means_at_or_below_a_prefix() -> None:
    assert category_within("Sports > Running", ["Sports"])
    assert category_within("Sports", ["Sports"])
    assert not category_within("Sportswear > Socks", ["Sports"])  # a string prefix, not a parent
    assert not category_within("Sports", ["Sports > Running"])
    assert not category_within("Sports", [])


def test_leaf_is_the_last_name() -> None:
    assert category_leaf("Electronics > Monitors") == "Monitors"
    assert category_leaf("Electronics") == "Electronics"
    assert category_leaf("") == ""
