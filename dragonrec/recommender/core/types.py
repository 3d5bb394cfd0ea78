"""Plain data types shared by serving and offline evaluation.

Nothing here imports Django: the same ranking code runs behind the API (ORM/pgvector stores) and inside the
evaluation harness (in-memory stores built from a dataset folder), so what we measure is what we serve.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dragonrec.categories import category_leaf

ProductId = int

# Event types, in the order of how much intent they express. Tracking stores the same strings.
VIEW = "view"
CLICK = "click"
ADD_TO_CART = "add_to_cart"
REMOVE_FROM_CART = "remove_from_cart"
PURCHASE = "purchase"
SEARCH = "search"
RATING = "rating"  # public datasets: a review, the usual implicit "purchase" signal in the literature

EVENT_TYPES: tuple[str, ...] = (VIEW, CLICK, ADD_TO_CART, REMOVE_FROM_CART, PURCHASE, SEARCH, RATING)

SCENARIOS: tuple[str, ...] = ("home", "product", "cart")


@dataclass(frozen=True, slots=True)
class Product:
    """What the ranking code needs to know about a product, whatever the shop's product model is."""

    id: ProductId
    title: str
    category: str = ""  # full path joined with " > " ("Electronics > Monitors"), "" when unknown
    brand: str = ""
    price: float | None = None
    in_stock: bool = True
    is_active: bool = True
    consumable: bool = False  # re-buying is normal (coffee beans): may be recommended again after a purchase

    @property
    def leaf_category(self) -> str:
        return category_leaf(self.category)


@dataclass(frozen=True, slots=True)
class HistoryEvent:
    product_id: ProductId
    event_type: str
    timestamp: float  # unix seconds; datasets without real times use the position in the sequence


@dataclass(frozen=True, slots=True)
class Preferences:
    """Explicitly stated tastes (cold start): categories and brands liked, price band."""

    categories: tuple[str, ...] = ()
    brands: tuple[str, ...] = ()
    price_min: float | None = None
    price_max: float | None = None

    @property
    def is_empty(self) -> bool:
        return not (self.categories or self.brands or self.price_min is not None or self.price_max is not None)


@dataclass(slots=True)
class Context:
    """One recommendation request, already resolved to plain data.

    `history` is oldest-first. `anchor_ids` are the products the scenario is about: the viewed product for
    `product`, the cart's contents for `cart`, empty for `home`.
    """

    scenario: str = "home"
    history: list[HistoryEvent] = field(default_factory=list)
    anchor_ids: list[ProductId] = field(default_factory=list)
    preferences: Preferences = field(default_factory=Preferences)
    n: int = 10
    exclude_ids: set[ProductId] = field(default_factory=set)
    user_key: str = ""  # "u:<pk>" or "s:<session id>"; for logging and caches only
    now: float | None = None  # unix seconds; None = wall clock


@dataclass(slots=True)
class Candidate:
    product_id: ProductId
    source: str  # name of the candidate source that proposed it ("embedding", "trending", "complements", ...)
    score: float = 0.0  # the source's own retrieval score (higher is better)
    anchor: ProductId | None = None  # the product it was found from (complements, similar): the shopper's reason


@dataclass(slots=True)
class ScoredItem:
    product_id: ProductId
    score: float
    source: str
    reason: str = ""
    # P(the serving policy put this item at this position | the request): 1.0 for deterministic slots, the exact
    # Plackett-Luce marginal for explored ones (core.exploration). The reward log's importance weights need it.
    propensity: float = 1.0
    anchor: ProductId | None = None  # the product its source found it from ("Goes well with <anchor>")

    def with_propensity(self, propensity: float) -> ScoredItem:
        """A copy with `propensity` set: dataclasses.replace, written out (replace re-reads the fields each call,
        ~3 us vs ~0.5; exploration copies every item of every served list)."""
        return ScoredItem(self.product_id, self.score, self.source, self.reason, propensity, self.anchor)


@dataclass(slots=True)
class Recommendation:
    items: list[ScoredItem]
    ranker: str  # "teacher", "embedding", "student:<version>", ...
    model_version: str = ""
    # what the policy had to give up to fill the page, e.g. ("price",) when too few items fit the stated price range
    relaxed: tuple[str, ...] = ()
