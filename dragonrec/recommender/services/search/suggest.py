"""Search suggestions as the shopper types: product titles by prefix, categories, and a typo correction."""

from __future__ import annotations

import re
from dataclasses import dataclass

from dragonrec.categories import category_leaf
from dragonrec.recommender.adapters import product_adapter
from dragonrec.recommender.services.search.ranking import catalog_category_paths, catalog_vocabulary, search_fields
from dragonrec.recommender.stores import serving_stores
from dragonrec.textsearch import Vocabulary, lexical_search, normalize, words

# ------------------------------------------------------------------------------------------------ suggestions


@dataclass
class SearchSuggestion:
    text: str
    kind: str  # "query" (a completed word), "category", or "product" (with its id)
    product_id: int | None = None


_PREFIX_CLEAN = re.compile(r"\s+")


def search_suggest(*, query: str, limit: int = 8) -> tuple[list[SearchSuggestion], str | None]:
    """Autocomplete for a search box: the query with its last word completed from the catalog's vocabulary, leaf
    categories and product titles matching what was typed (the last word as a prefix), and the typo correction of the
    words typed so far (None when there is none)."""
    text = normalize(query)
    typed = words(text)
    if not typed:
        return [], None
    products, index = serving_stores()
    vocabulary = catalog_vocabulary(index.snapshot) if index.snapshot is not None else Vocabulary({})
    head = [vocabulary.correct(w) or w for w in typed[:-1]]
    last = typed[-1]
    suggestions: list[SearchSuggestion] = []
    seen: set[tuple[str, str]] = set()

    def add(suggestion: SearchSuggestion) -> None:
        key = (suggestion.kind, normalize(suggestion.text))
        if key not in seen and len(suggestions) < limit:
            seen.add(key)
            suggestions.append(suggestion)

    adapter = product_adapter()
    matched = lexical_search(
        adapter.available(), " ".join([*head, last]), fields=search_fields(adapter), limit=50, prefix=True
    )
    found = products.get_many([pid for pid, _ in matched])
    hits = [found[pid] for pid, _ in matched if pid in found]
    # completions of the last word that occur with the words before it: from the products that match so far
    completed: dict[str, int] = {}
    for product in hits:
        for word in set(words(f"{product.title} {product.category.replace('>', ' ')}")):
            if word.startswith(last) and word != last:
                completed[word] = completed.get(word, 0) + 1
    completions = sorted(completed, key=lambda w: (-completed[w], w))[:3] if hits else []
    if not completions and not head:
        completions = vocabulary.complete(last, limit=3)
    if not completions and (guess := vocabulary.correct(last)):
        completions = [guess]
    for word in completions:
        add(SearchSuggestion(" ".join([*head, word]), "query"))
    leaves = {category_leaf(path) for path in catalog_category_paths(index.snapshot)} if index.snapshot else set()
    for leaf in sorted(leaves):
        leaf_words = words(leaf)
        if any(w.startswith(last) for w in leaf_words) and all(w in leaf_words for w in head):
            add(SearchSuggestion(leaf, "category"))
    for product in hits[:limit]:
        add(SearchSuggestion(product.title, "product", product.id))
    corrected = " ".join([*head, vocabulary.correct(last) or last])
    return suggestions, corrected if corrected != " ".join(typed) else None
