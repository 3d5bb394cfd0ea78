"""The demo shop's data files and the record the session generator emits.

Everything here is data committed beside this module, read by short loaders; nothing generates it at run time:

- ``products.jsonl``: the catalog, one product per line in SKU order. Every brand, model name and product was
  invented for the DragonRec demo. It is the source itself now (it was generated once; edit it as data): about 8%
  of products are sold out (``stock`` 0, at most two per leaf category, never ``INJECTION_SKU``).
- ``complements.json``: leaf category -> complementary leaf categories, strongest first.
- ``behaviour.json``: the tables of the session generator (category demand, traffic per hour of day).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PRODUCTS_PATH = HERE / "products.jsonl"
COMPLEMENTS_PATH = HERE / "complements.json"
BEHAVIOUR_PATH = HERE / "behaviour.json"

# The SKU whose description carries a prompt-injection attempt (the security tests use it).
INJECTION_SKU = "EL-CBL-0003"

VIEW = "view"
ADD_TO_CART = "add_to_cart"
REMOVE_FROM_CART = "remove_from_cart"
PURCHASE = "purchase"
EVENT_TYPES = (VIEW, ADD_TO_CART, REMOVE_FROM_CART, PURCHASE)


@dataclass(frozen=True)
class DemoEvent:
    """One shopper interaction, ready to be ingested as a DragonRec event."""

    user: str | None  # "demo-user-017" for logged-in shoppers, None for anonymous sessions
    session_id: str  # "s-000123"
    sku: str  # product item_id
    type: str  # one of EVENT_TYPES
    timestamp: datetime  # timezone-aware UTC
    quantity: int = 1


@dataclass(frozen=True)
class Behaviour:
    """The generator's tables (``behaviour.json``)."""

    category_traffic: dict[str, float]  # relative demand per leaf category name; unknown categories get 1.0
    hour_weights: tuple[float, ...]  # share of traffic per hour of day (UTC)


def load_products(path: Path | None = None) -> list[dict[str, Any]]:
    """Read the demo catalog (``products.jsonl`` next to this module by default)."""
    path = PRODUCTS_PATH if path is None else Path(path)
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def load_complements(path: Path | None = None) -> dict[str, list[str]]:
    """Read the ground-truth category complement map (leaf path -> complementary leaf paths, strongest first)."""
    path = COMPLEMENTS_PATH if path is None else Path(path)
    with path.open(encoding="utf-8") as fh:
        data = json.load(fh)
    return {str(k): [str(c) for c in v] for k, v in data.items()}


@cache
def load_behaviour() -> Behaviour:
    """Read ``behaviour.json`` once (the generator consults it per session)."""
    data = json.loads(BEHAVIOUR_PATH.read_text(encoding="utf-8"))
    if len(data["hour_weights"]) != 24:
        raise ValueError(f"{BEHAVIOUR_PATH.name}: hour_weights needs 24 values, one per hour of day")
    return Behaviour(
        category_traffic={str(k): float(v) for k, v in data["category_traffic"].items()},
        hour_weights=tuple(float(w) for w in data["hour_weights"]),
    )
