"""Product search text, the same on both sides: what is indexed and what a shopper types go through `normalize`, so
`\uff4d\uff4f\uff4e\uff49\uff54\uff4f\uff52` (fullwidth "monitor"), `MONITOR` and `mon\u00aditor` (a soft hyphen
pasted from a web page) are one word.

Shared by the catalog (its stored `search_vector`) and the recommender (the blended, personalised search); it imports
no app. Three parts:

- `normalize` / `words`: Unicode NFKC, case folding, invisible characters dropped, whitespace collapsed.
- `Vocabulary`: the catalog's own words with their document counts, for the typo path ("moniter" -> "monitor",
  "coffe" -> "coffee") and autocomplete. PostgreSQL's `pg_trgm` is not in the embedded server, so typos are fixed here
  with rapidfuzz (an edit distance over the words of about the same length), identically in development and
  production.
- `lexical_search`: PostgreSQL full-text search (weighted `tsvector`, `ts_rank_cd`) over a stored vector column when
  the model has one (GIN-indexed), else over a vector computed on the fly from the given fields (a shop's own product
  model: correct, but unindexed).

    >>> normalize("\uff23\uff4f\uff46\uff46\uff45\uff45  Ma\u00adker")
    'coffee maker'
    >>> vocabulary = Vocabulary.from_texts(["Lumora 27-Inch Monitor", "Drip Coffee Maker"])
    >>> vocabulary.correct_query("moniter")
    'monitor'
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

# PostgreSQL's text search configuration: English stemming ("monitors" matches "monitor"), stop words dropped.
TS_CONFIG = "english"
# ts_rank_cd weights for D, C, B, A: title A, brand and category B, description D. The defaults (0.1, 0.2, 0.4, 1.0)
# already put a title word far above a description word: a monitor riser whose description says "slide a keyboard
# underneath" ranks below every keyboard.
TS_WEIGHTS = "{0.1, 0.2, 0.4, 1.0}"
MAX_QUERY_WORDS = 8  # more than any search box sends; bounds the tsquery and the typo work
MIN_CORRECTABLE = 4  # shorter words have too many neighbours one edit away ("mat" -> "hat", "map", "cat")

_SPACES = re.compile(r"\s+")
_WORD = re.compile(r"\w+")


def _visible(char: str) -> str:
    # Cf (soft hyphen, zero-width space/joiners, word joiner, BOM, bidi marks) is no part of a word: dropped. Cc
    # (tabs, newlines, NUL and other controls) separates words: a space (and a NUL never reaches PostgreSQL).
    category = unicodedata.category(char)
    return "" if category == "Cf" else " " if category in ("Cc", "Cs") else char


def normalize(text: str | None) -> str:
    """NFKC (fullwidth and compatibility forms become plain letters, ligatures split), invisible characters removed,
    case folded, whitespace collapsed. Indexing and querying both call it, so they agree by construction."""
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", text)
    text = "".join(_visible(ch) for ch in text)
    # casefold can produce text NFKC would change again ("ﬀ" is split by NFKC first; "ß" -> "ss" is stable)
    return _SPACES.sub(" ", text.casefold()).strip()


def words(text: str | None) -> list[str]:
    """The words of normalised text: runs of letters and digits ("USB-C" -> "usb", "c")."""
    return _WORD.findall(normalize(text))


def _correctable(word: str) -> bool:
    return len(word) >= MIN_CORRECTABLE and not any(ch.isdigit() for ch in word)


def _max_edits(word: str) -> int:
    # one typo in a short word, two in a long one (Elasticsearch's fuzziness AUTO uses the same split at 5/6)
    return 1 if len(word) <= 5 else 2


@dataclass(frozen=True)
class Suggestion:
    text: str
    kind: str  # "word" for a vocabulary completion


class Vocabulary:
    """The words of a catalog (titles, brands, categories) with how many products use each.

    `correct` maps a word the catalog does not know to the most used catalog word within one or two edits
    (transpositions count one: optimal string alignment), or None; `complete` lists the most used words starting
    with a prefix. Built in milliseconds for a demo catalog and in about a second for 100,000 products; callers
    cache it with the catalog snapshot it was built from.
    """

    def __init__(self, counts: dict[str, int]) -> None:
        self.counts = counts
        self.sorted = sorted(counts)
        by_length: dict[int, list[str]] = {}
        for word in self.sorted:
            if _correctable(word):
                by_length.setdefault(len(word), []).append(word)
        self.by_length = by_length

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> Vocabulary:
        counts: Counter[str] = Counter()
        for text in texts:
            counts.update({w for w in words(text) if len(w) > 1})
        return cls(dict(counts))

    def __len__(self) -> int:
        return len(self.counts)

    def __contains__(self, word: object) -> bool:
        return word in self.counts

    def correct(self, word: str) -> str | None:
        """The catalog word `word` was probably meant to be, None when it is known, too short or too far off."""
        if word in self.counts or not _correctable(word):
            return None
        edits = _max_edits(word)
        best: tuple[int, int, str] | None = None  # (edits, -count, word): fewest edits, then the most used
        for length in range(len(word) - edits, len(word) + edits + 1):
            choices = self.by_length.get(length)
            if not choices:
                continue
            for candidate, distance, _ in process.extract(
                word, choices, scorer=OSA.distance, score_cutoff=edits, limit=5
            ):
                key = (int(distance), -self.counts[candidate], candidate)
                if best is None or key < best:
                    best = key
        return best[2] if best is not None else None

    def resemble(self, word: str, *, min_similarity: float = 70.0) -> str | None:
        """A looser guess than `correct`, for a query that found nothing at all: the most similar catalog word by
        normalised Indel similarity (0-100), whatever the number of edits ("kyebrd" -> "keyboard"), or None."""
        if not _correctable(word) or word in self.counts:
            return None
        choices = [w for n in range(len(word) - 3, len(word) + 4) for w in self.by_length.get(n, ())]
        found = process.extractOne(word, choices, scorer=fuzz.ratio, score_cutoff=min_similarity)
        return found[0] if found else None

    def correct_query(self, query: str) -> str:
        """The normalised query with each unknown word replaced by its correction (unknown words without one stay)."""
        return " ".join(self.correct(w) or w for w in words(query)[:MAX_QUERY_WORDS])

    def complete(self, prefix: str, *, limit: int = 5) -> list[str]:
        """Catalog words starting with `prefix` (normalised), the most used first."""
        prefix = normalize(prefix)
        if not prefix:
            return []
        start = bisect.bisect_left(self.sorted, prefix)
        found = []
        for word in self.sorted[start:]:
            if not word.startswith(prefix):
                break
            found.append(word)
            if len(found) >= 2000:  # a one-letter prefix: the most used among the first 2,000 is plenty
                break
        found.sort(key=lambda w: (-self.counts[w], w))
        return found[:limit]


# ---------------------------------------------------------------------------------------------- PostgreSQL


def _lexeme_term(word: str) -> str:
    # Quoted for to_tsquery: a word is letters/digits only (see `words`), so no quote can appear inside.
    return f"'{word}'"


def tsquery_text(query_words: Sequence[str], *, alternatives: dict[str, str] | None = None, prefix: bool) -> str:
    """A `to_tsquery` expression: every word required (AND); a word with a typo correction matches either spelling;
    with `prefix`, the last word also matches as the start of a longer word ("mon" while typing "monitor")."""
    alternatives = alternatives or {}
    parts = []
    for i, word in enumerate(query_words):
        terms = [_lexeme_term(word)]
        if prefix and i == len(query_words) - 1 and len(word) >= 2:
            terms.append(_lexeme_term(word) + ":*")
        if word in alternatives:
            terms.append(_lexeme_term(alternatives[word]))
        parts.append("(" + " | ".join(terms) + ")")
    return " & ".join(parts)


@dataclass(frozen=True)
class SearchFields:
    """Where the searchable text of a product model is: a stored tsvector column (None: computed per query) and
    the fields the vector is made of, with their weights."""

    vector_field: str | None = "search_vector"
    title: str = "title"
    brand: str = "brand"
    category: str = "category__path"
    description: str = "description"


def search_document(*, title: str, brand: str, category: str, description: str) -> dict[str, str]:
    """The normalised text of each weighted part of a product's search vector (A title, B brand and category,
    D description). The category path's separators are kept out: "Electronics > Displays > Monitors"."""
    return {
        "A": normalize(title),
        "B": normalize(f"{brand} {category.replace('>', ' ')}"),
        "D": normalize(description),
    }


VECTOR_SQL = (
    f"setweight(to_tsvector('{TS_CONFIG}', %s), 'A') || setweight(to_tsvector('{TS_CONFIG}', %s), 'B')"
    f" || setweight(to_tsvector('{TS_CONFIG}', %s), 'D')"
)


def lexical_queryset(
    queryset: Any,
    query: str,
    *,
    fields: SearchFields,
    alternatives: dict[str, str] | None = None,
    prefix: bool = True,
    window: int | None = None,
) -> Any:
    """The products of `queryset` that contain every word of `query` (or its correction, or, with `prefix`, for the
    last word a word it begins), annotated with `search_rank` (ts_rank_cd, in [0, 1)) and ordered by it. With a
    stored, GIN-indexed vector PostgreSQL reads only the matching rows; with `window`, at most that many of them are
    ranked."""
    from django.contrib.postgres.search import SearchVector
    from django.db.models import BooleanField, F, FloatField, Func, Value

    query_words = words(query)[:MAX_QUERY_WORDS]
    if not query_words:
        return queryset.none()
    text = tsquery_text(query_words, alternatives=alternatives, prefix=prefix)
    tsquery = Func(Value(TS_CONFIG), Value(text), function="to_tsquery")
    if fields.vector_field:
        vector: Any = F(fields.vector_field)
    else:
        # A shop's own model without a stored vector: the same weights, computed per row (PostgreSQL's normalize()
        # and lower() stand in for `normalize`; invisible characters are not stripped on this path).
        def part(name: str) -> Any:
            return Func(Func(F(name), function="lower"), template="normalize(%(expressions)s, NFKC)")

        vector = (
            SearchVector(part(fields.title), weight="A", config=TS_CONFIG)
            + SearchVector(part(fields.brand), weight="B", config=TS_CONFIG)
            + SearchVector(part(fields.category), weight="B", config=TS_CONFIG)
            + SearchVector(part(fields.description), weight="D", config=TS_CONFIG)
        )
    matches = Func(vector, tsquery, template="(%(expressions)s)", arg_joiner=" @@ ", output_field=BooleanField())
    rank = Func(
        vector,
        tsquery,
        # rank / (rank + 1) (normalisation 32): bounded in [0, 1), comparable across queries
        template=f"ts_rank_cd('{TS_WEIGHTS}'::float4[], %(expressions)s, 32)",
        output_field=FloatField(),
    )
    matched = queryset.filter(matches)
    if window:
        # ts_rank_cd reads every matching row's vector (~4 us a row): a word in 10,000 products would cost 40 ms.
        # Ranking at most `window` of them bounds that; which ones is the index's order (insertion), a sample.
        matched = queryset.filter(pk__in=matched.order_by().values("pk")[:window])
    return matched.annotate(search_rank=rank).order_by("-search_rank", "pk")


def lexical_search(
    queryset: Any,
    query: str,
    *,
    fields: SearchFields,
    limit: int,
    alternatives: dict[str, str] | None = None,
    prefix: bool = False,
    window: int | None = None,
) -> list[tuple[int, float]]:
    """(pk, ts_rank_cd) of the best `limit` matches of `query` in `queryset` (see `lexical_queryset`), one query."""
    if limit <= 0 or not words(query):
        return []
    qs = lexical_queryset(queryset, query, fields=fields, alternatives=alternatives, prefix=prefix, window=window)
    return [(int(pk), float(rank)) for pk, rank in qs.values_list("pk", "search_rank")[:limit]]
