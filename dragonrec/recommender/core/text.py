"""The one place that turns product fields into the text we embed.

Serving (the Django product adapter) and evaluation (dataset loader) both call `product_text`, so a product gets
the same vector whichever side computed it.

    >>> product_text(title="OPI Nail Lacquer", brand="OPI", category="Makeup > Nails > Nail Polish")
    'OPI Nail Lacquer. Brand: OPI. Category: Makeup > Nails > Nail Polish.'
"""

from __future__ import annotations

import re

# all-MiniLM-L6-v2 truncates at 256 word pieces (~1,000 characters of English); text beyond that is wasted work.
DEFAULT_MAX_CHARS = 1000

_SPACES = re.compile(r"\s+")


def _clean(value: str | None) -> str:
    return _SPACES.sub(" ", value or "").strip().rstrip(".").strip()


def product_text(
    *,
    title: str | None,
    brand: str | None = "",
    category: str | None = "",
    description: str | None = "",
    max_chars: int = DEFAULT_MAX_CHARS,
) -> str:
    """Title first (the most informative field, never cut by truncation), then brand, category and description.

    `None` fields are treated as empty (public datasets carry nulls). The result is at most `max_chars` long.
    """
    parts = []
    if title_text := _clean(title):
        parts.append(f"{title_text}.")
    if brand_text := _clean(brand):
        parts.append(f"Brand: {brand_text}.")
    if category_text := _clean(category):
        parts.append(f"Category: {category_text}.")
    if description_text := _clean(description):
        parts.append(f"{description_text}.")
    text = " ".join(parts)
    if len(text) > max_chars:
        # Cut at a word boundary so the tokenizer does not see half a word.
        text = text[:max_chars].rsplit(" ", 1)[0]
    return text
