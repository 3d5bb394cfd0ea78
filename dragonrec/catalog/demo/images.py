"""Pictures for the demo catalog: one small SVG per leaf category, served as the catalog app's static files
(WhiteNoise in the demo; a host project's own static serving otherwise).

The demo's ``products.jsonl`` names an image host that does not exist; :func:`with_demo_image` replaces that address
with the category's picture when the demo shop is loaded (``dragonrec_demo_data``), so a page of the demo shop never
asks for an image that cannot load. The SVG files are committed data, named by the slug of their leaf category;
``scripts/demo_images.py`` (not shipped in the package) draws them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.utils.text import slugify

from dragonrec.categories import category_parts

STATIC_DIR = Path(__file__).resolve().parents[1] / "static"
# Under the app's static/ folder, namespaced like every reusable app's static files.
IMAGE_PREFIX = "dragonrec/demo/products"
OUTPUT = STATIC_DIR / IMAGE_PREFIX


def image_name(category: str) -> str | None:
    """The file name of a category's picture ("monitors.svg"), by its leaf; None when the demo has no picture."""
    parts = category_parts(category)
    name = f"{slugify(parts[-1])}.svg" if parts else ""
    return name if name and (OUTPUT / name).is_file() else None


def image_url(category: str) -> str:
    """Where the shop serves a category's picture ("/static/dragonrec/demo/products/monitors.svg"); "" if none.

    Follows STATIC_URL (Django prefixes a relative one with the script name), so a shop that serves its static
    files from a CDN gets the CDN's address."""
    from django.conf import settings

    name = image_name(category)
    return f"{settings.STATIC_URL}{IMAGE_PREFIX}/{name}" if name else ""


def with_demo_image(row: dict[str, Any]) -> dict[str, Any]:
    """A products.jsonl row with its image address replaced by its category's picture (the row as it was, when the
    demo has none): the rule ``dragonrec_demo_data`` applies while importing the demo catalog."""
    url = image_url(str(row.get("category") or ""))
    return {**row, "image_url": url} if url else row
