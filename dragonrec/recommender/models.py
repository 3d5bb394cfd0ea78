"""What the recommender stores: embeddings, teacher judgments, served impressions, aggregates the beat jobs
compute for serving, merchant rules and the student model registry."""

from __future__ import annotations

import struct
import uuid
from typing import Any

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone
from pgvector.django import HnswIndex, VectorField

EMBEDDING_DIM = 384  # all-MiniLM-L6-v2; RECOMMENDER["EMBEDDING_MODEL"]'s dimension must match (a migration changes it)


class ProductEmbedding(models.Model):
    """A product's text embedding for one embedding model. `text_hash` lets the embedder skip unchanged text."""

    product = models.ForeignKey(settings.DRAGONREC_PRODUCT_MODEL, on_delete=models.CASCADE, related_name="+")
    model_name = models.CharField(max_length=200)
    vector = VectorField(dimensions=EMBEDDING_DIM)
    text_hash = models.CharField(max_length=64)
    embedded_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["product", "model_name"], name="dragonrec_embedding_unique_product")
        ]
        indexes = [
            # the newest embedding of a model is the catalog snapshot's embeddings version (stores._snapshot_version):
            # read from this index's last entry, not a scan of a million vectors
            models.Index(fields=["model_name", "embedded_at"], name="dragonrec_embedding_stamp"),
            # HNSW with cosine distance: the ANN behind candidate retrieval (pgvector docs: m=16,
            # ef_construction=64 are the defaults and fine below a few million rows).
            HnswIndex(
                name="dragonrec_embedding_hnsw",
                fields=["vector"],
                m=16,
                ef_construction=64,
                opclasses=["vector_cosine_ops"],
            ),
        ]

    def __str__(self) -> str:
        return f"embedding of {self.product_id} ({self.model_name})"


class TeacherJudgment(models.Model):
    """One call to the LLM teacher, stored whatever happened: the distillation dataset for the student."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    prompt_version = models.CharField(max_length=32)
    model = models.CharField(max_length=200)
    user_key = models.CharField(max_length=200, blank=True, help_text="u:<user id> or s:<session id>")
    request_id = models.UUIDField(null=True, blank=True, db_index=True)
    cache_key = models.CharField(max_length=64, db_index=True)
    history = models.JSONField(default=list, help_text="[[product id, event type], ...] oldest first")
    preferences = models.JSONField(default=dict, blank=True)
    candidates = models.JSONField(default=list, help_text="product ids in prompt order")
    scores = models.JSONField(default=dict, blank=True, help_text="{product id: 0-10}")
    reasons = models.JSONField(default=dict, blank=True)
    problems = models.JSONField(default=list, blank=True, help_text="what the answer got wrong (unknown ids, ...)")
    raw_answer = models.TextField(blank=True)
    latency_ms = models.PositiveIntegerField(default=0)
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    cost_usd = models.DecimalField(max_digits=10, decimal_places=6, default=0)
    cost_estimated = models.BooleanField(
        default=False, help_text="the API reported no token usage: cost estimated from the prompt and answer lengths"
    )
    flagged = models.JSONField(
        default=list,
        blank=True,
        help_text="product ids whose text read as instructions to the model: never used as training labels",
    )
    cache_hit = models.BooleanField(default=False)
    error = models.CharField(max_length=64, blank=True, db_index=True)
    error_detail = models.TextField(blank=True)
    source = models.CharField(max_length=32, default="serving", help_text="serving | dataset | simulation")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"judgment {self.pk} ({self.model}, {self.error or 'ok'})"


# Fixed codes for the candidate source of a served item (ServedList.sources): two bytes per item instead of a string
# per row. Append only: stored lists keep their codes. A source not listed (a host's own candidate source) is stored
# as OTHER_SOURCE.
SOURCE_CODES: dict[str, int] = {
    "": 0,
    "embedding": 1,
    "trending": 2,
    "complements": 3,
    "similar": 4,
    "pinned": 5,
    "lexical": 6,
    "semantic": 7,
    "lexical+semantic": 8,
    "cart": 9,
    "teacher": 10,
    "student": 11,
    "search": 12,
    "similarity": 13,
}
OTHER_SOURCE = 99
SOURCE_NAMES: dict[int, str] = {code: name for name, code in SOURCE_CODES.items()} | {OTHER_SOURCE: "other"}


def floats_pack(values: list[float]) -> bytes:
    """float4 little-endian, 4 bytes a value: what ServedList keeps its scores and propensities in."""
    return struct.pack(f"<{len(values)}f", *values)


def floats_unpack(packed: bytes | memoryview) -> list[float]:
    raw = bytes(packed)
    return list(struct.unpack(f"<{len(raw) // 4}f", raw))


# Item ids of a served list packed as one width byte (4 or 8) and then every id big-endian in that many bytes: 41
# bytes for ten ids that fit an int4 (a shop's usual ids) where a bigint[] costs 101 (its 20-byte array header and
# eight bytes an id); an id beyond int4 makes the list's ids 8 bytes each. Big-endian because that is what SQL
# reads back (int4send/int8send order): the migration that introduced the format (0013) defines the SQL side,
# dragonrec_item_at(items, position), dragonrec_item_count(items), dragonrec_item_ids(items) and
# dragonrec_ids_pack(bigint[]).
_INT4 = range(-(2**31), 2**31)


def ids_pack(ids: list[int]) -> bytes:
    width = 4 if all(i in _INT4 for i in ids) else 8
    return bytes([width]) + struct.pack(f">{len(ids)}{'i' if width == 4 else 'q'}", *ids)


def ids_unpack(packed: bytes | memoryview) -> list[int]:
    raw = bytes(packed)
    width = raw[0]
    return list(struct.unpack(f">{(len(raw) - 1) // width}{'i' if width == 4 else 'q'}", raw[1:]))


class PackedIdsField(models.BinaryField):  # type: ignore[type-arg]  # not subscriptable at run time
    """A list of integer ids in Python, stored as `ids_pack` bytes (bytea); SQL reads it with the functions above."""

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> list[int] | None:
        return None if value is None else ids_unpack(value)

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str):  # value_to_string's form (fixtures, dumpdata)
            return [int(i) for i in value.split(",") if i]
        return value if value is None or isinstance(value, list) else ids_unpack(value)

    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> Any:
        if isinstance(value, list | tuple):
            value = ids_pack([int(i) for i in value])
        return super().get_db_prep_value(value, connection, prepared)

    def value_to_string(self, obj: models.Model) -> str:
        return ",".join(str(i) for i in self.value_from_object(obj) or [])


class ServingPolicy(models.Model):
    """What served lists, once per distinct policy (ranker, model version, experiment arm, exploration settings):
    a served list keeps a 4-byte reference instead of repeating the same JSON on every row. `digest` is PostgreSQL's
    md5 of the canonical jsonb of all five fields (computed in SQL by the flush, so the two sides always agree)."""

    id = models.AutoField(primary_key=True)  # 4 bytes on every served list
    digest = models.UUIDField(unique=True)  # an md5 is 128 bits: 16 bytes, and no second (pattern) index
    ranker = models.CharField(max_length=100)
    model_version = models.CharField(max_length=100, blank=True)
    experiment = models.CharField(max_length=100, blank=True)
    arm = models.CharField(max_length=100, blank=True)
    policy = models.JSONField(default=dict, blank=True, help_text="ranker, model version, exploration settings")

    class Meta:
        # no index on experiment: one row per distinct policy, a handful per experiment arm and model version
        verbose_name_plural = "serving policies"

    def __str__(self) -> str:
        return f"{self.ranker} {self.model_version} {self.experiment}/{self.arm}".strip()


class ServedList(models.Model):
    """One served list in one row: its items, scores, propensities and sources as arrays (position = index + 1).

    The table is range-partitioned by day on `served_at` (migration 0011, services/partitions.py): retention drops
    whole days. The database has no primary key (a unique constraint would have to include the partition key; a hash
    index on request_id serves the lookups); Django knows `request_id` as the key (unique in practice: a uuid4, and
    the flush writes a list once).
    `propensities` NULL means all 1.0 (deterministic slots only). `context` holds what a request asked for (a
    search's query, sort, page) and, for lists waiting for the teacher, the whole context its judgment is made from;
    the history for exports and learning is read back from events (tracking.selectors.histories_before), which
    outlive served lists (730 vs 180 days)."""

    request_id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    served_at = models.DateTimeField(default=timezone.now, editable=False)
    # no database constraint: a foreign key from a partitioned table costs a trigger per partition; the flush keeps
    # only users that exist, and erasure/user deletion go through services/deletion.py
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    session_id = models.CharField(max_length=128, blank=True)
    scenario = models.CharField(max_length=16)
    policy = models.ForeignKey(ServingPolicy, on_delete=models.PROTECT, db_constraint=False, related_name="+")
    anchor_ids = ArrayField(models.BigIntegerField(), null=True, blank=True)
    # ids_pack bytes (a list in Python); SQL reads an item with dragonrec_item_at(item_ids, position)
    item_ids = PackedIdsField()
    # packed, one entry per item (migration 0011 says why): float4 little-endian; NULL propensities: all 1.0;
    # sources one byte each (SOURCE_CODES). Read them with scores_list() / propensity_list() / source_names().
    scores = models.BinaryField()
    propensities = models.BinaryField(null=True, blank=True)
    sources = models.BinaryField()
    # interleaved lists: per position, whose pick it was, as an index into the policy's "team_names" (a list's own
    # draft kept out of the deduplicated policy)
    teams = models.BinaryField(null=True, blank=True)
    context = models.JSONField(null=True, blank=True)

    class Meta:
        managed = True
        ordering = ["-served_at"]

    def __str__(self) -> str:
        return f"{self.scenario} list {self.request_id}"

    def source_names(self) -> list[str]:
        return [SOURCE_NAMES.get(code, "other") for code in bytes(self.sources)]

    def team_list(self) -> list[str]:
        """The arm that placed each item of an interleaved list (reads the policy: select_related("policy"))."""
        names = (self.policy.policy or {}).get("team_names") or []
        return [names[i] for i in bytes(self.teams)] if self.teams else []

    def scores_list(self) -> list[float]:
        return floats_unpack(self.scores)

    def propensity_list(self) -> list[float]:
        return floats_unpack(self.propensities) if self.propensities else [1.0] * len(self.item_ids)


class ServedOutcome(models.Model):
    """What came of a served item: one row per click, add to cart or purchase (not one per shown item), partitioned
    by the list's `served_at` so that a day of lists and its outcomes are dropped together. The database's key is
    (request_id, position, kind, served_at): the first of each kind is kept."""

    class Kind(models.IntegerChoices):
        CLICK = 1, "click"
        CART = 2, "add to cart"
        PURCHASE = 3, "purchase"

    pk = models.CompositePrimaryKey("request_id", "position", "kind")
    request_id = models.UUIDField()
    served_at = models.DateTimeField()
    position = models.SmallIntegerField()  # 1-based, as shown
    kind = models.SmallIntegerField(choices=Kind.choices)
    at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.position} of {self.request_id}"


class TrendingScore(models.Model):
    """Time-decayed popularity, recomputed by a beat job; read on every cold-start request."""

    product = models.OneToOneField(settings.DRAGONREC_PRODUCT_MODEL, on_delete=models.CASCADE, related_name="+")
    score = models.FloatField(db_index=True)
    category_path = models.CharField(max_length=1000, blank=True, db_index=True)
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        # the newest row is the catalog snapshot's version of this table (stores._snapshot_version)
        indexes = [models.Index(fields=["computed_at"], name="dragonrec_trending_stamp")]
        ordering = ["-score"]

    def __str__(self) -> str:
        return f"{self.product_id}: {self.score:.3f}"


class ProductComplement(models.Model):
    """`complement` goes well with `product` (co-purchase / view-then-buy lift), recomputed by a beat job."""

    product = models.ForeignKey(settings.DRAGONREC_PRODUCT_MODEL, on_delete=models.CASCADE, related_name="+")
    complement = models.ForeignKey(settings.DRAGONREC_PRODUCT_MODEL, on_delete=models.CASCADE, related_name="+")
    score = models.FloatField()
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        # the newest row is the catalog snapshot's version of this table (stores._snapshot_version)
        indexes = [models.Index(fields=["computed_at"], name="dragonrec_complement_stamp")]
        ordering = ["product", "-score"]
        constraints = [models.UniqueConstraint(fields=["product", "complement"], name="dragonrec_complement_unique")]

    def __str__(self) -> str:
        return f"{self.product_id} -> {self.complement_id}"


class CategoryComplement(models.Model):
    """Leaf category `complement_path` goes with `category_path` (monitors -> keyboards), learned or entered."""

    category_path = models.CharField(max_length=1000, db_index=True)
    complement_path = models.CharField(max_length=1000)
    score = models.FloatField()
    manual = models.BooleanField(default=False, help_text="Entered by a merchant; never overwritten by the job.")
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        # the newest row is the catalog snapshot's version of this table (stores._snapshot_version)
        indexes = [models.Index(fields=["computed_at"], name="dragonrec_catcomp_stamp")]
        ordering = ["category_path", "-score"]
        constraints = [
            models.UniqueConstraint(fields=["category_path", "complement_path"], name="dragonrec_catcomp_unique")
        ]

    def __str__(self) -> str:
        return f"{self.category_path} -> {self.complement_path}"


class AggregateWatermark(models.Model):
    """How far an incremental aggregate has read the events (by `received_at`), and what its sums are anchored to.
    Trending scores are sums of w * 2^((t - anchor) / half-life): multiplying all of them by one factor gives the
    decayed score at any later time, so new events are added without touching the old rows; a rebuild re-anchors."""

    name = models.CharField(max_length=32, primary_key=True)  # "trending" | "copurchase"
    received_until = models.DateTimeField()
    anchor = models.DateTimeField()
    events = models.FloatField(default=0.0, help_text="copurchase: the summed intent of all counted events (PMI's N)")
    rebuilt_at = models.DateTimeField()
    refreshed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} until {self.received_until:%Y-%m-%d %H:%M:%S}"


class CoPurchaseCount(models.Model):
    """Two products carted/bought by the same shopper within a session gap of each other: the summed pair
    strength and the number of such event pairs (`product_a` < `product_b`), kept up to date from new events."""

    product_a = models.ForeignKey(settings.DRAGONREC_PRODUCT_MODEL, on_delete=models.CASCADE, related_name="+")
    product_b = models.ForeignKey(settings.DRAGONREC_PRODUCT_MODEL, on_delete=models.CASCADE, related_name="+")
    weight = models.FloatField()
    pairs = models.IntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["product_a", "product_b"], name="dragonrec_copurchase_pair")]
        indexes = [models.Index(fields=["product_b"], name="dragonrec_copurchase_b")]

    def __str__(self) -> str:
        return f"{self.product_a_id} + {self.product_b_id}: {self.pairs}"


class ProductIntentCount(models.Model):
    """A product's summed cart/purchase intent (PMI's per-product count), kept up to date from new events."""

    product = models.OneToOneField(
        settings.DRAGONREC_PRODUCT_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    weight = models.FloatField()

    def __str__(self) -> str:
        return f"{self.product_id}: {self.weight:.1f}"


class MerchantRule(models.Model):
    """A merchant's override, applied after ranking: pin, boost, block, or restrict by category / price band."""

    class Kind(models.TextChoices):
        PIN = "pin", "Pin a product at a position"
        BOOST = "boost", "Multiply a product's or category's score"
        BLOCK = "block", "Never recommend a product or category"
        RESTRICT = "restrict", "Only recommend within a category and/or price band"

    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    scenario = models.CharField(max_length=16, blank=True, help_text="home, product or cart; blank = all")
    product = models.ForeignKey(
        settings.DRAGONREC_PRODUCT_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    category_path = models.CharField(max_length=1000, blank=True, help_text="A category path prefix.")
    price_min = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    price_max = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    multiplier = models.FloatField(default=1.0, help_text="boost: score multiplier (e.g. 1.5)")
    position = models.PositiveSmallIntegerField(default=1, help_text="pin: 1-based position")
    is_active = models.BooleanField(default=True)
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.name}"


class ModelVersion(models.Model):
    """A trained student: its artifact, how it was trained and how it scored; at most one is active."""

    class Status(models.TextChoices):
        TRAINING = "training"
        CANDIDATE = "candidate"
        ACTIVE = "active"
        ARCHIVED = "archived"
        FAILED = "failed"

    class Kind(models.TextChoices):
        FULL = "full", "full retrain"
        ONLINE = "online", "online update"

    version = models.CharField(max_length=64, unique=True)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.FULL)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.TRAINING, db_index=True)
    artifact = models.CharField(max_length=500, blank=True, help_text="Path in the default storage.")
    architecture = models.JSONField(default=dict, blank=True)
    hyperparameters = models.JSONField(default=dict, blank=True)
    data_snapshot = models.JSONField(default=dict, blank=True, help_text="event counts, date range, teacher labels")
    metrics = models.JSONField(default=dict, blank=True)
    training_log = models.JSONField(default=list, blank=True, help_text="per-epoch loss and validation NDCG@10")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children")
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    decision = models.TextField(
        blank=True, help_text="Why it was or was not promoted, and why the guardrail rolled it back (one line each)."
    )
    rolled_back_at = models.DateTimeField(null=True, blank=True, help_text="When the guardrail rolled it back.")

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["status"], condition=models.Q(status="active"), name="dragonrec_one_active_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.version} ({self.status})"

    @property
    def valid_ndcg10(self) -> float | None:
        value = self.metrics.get("valid_ndcg@10")
        return float(value) if value is not None else None


def _new_salt() -> str:
    import secrets

    return secrets.token_hex(8)


class Experiment(models.Model):
    """An online experiment on one or more scenarios: shoppers are split between arms by a salted hash of their
    shopper key (A/B), or every list interleaves two arms' rankings (interleaving)."""

    class Status(models.TextChoices):
        DRAFT = "draft"
        RUNNING = "running"
        STOPPED = "stopped"

    class Kind(models.TextChoices):
        AB = "ab", "A/B test (shoppers split between arms)"
        INTERLEAVING = "interleaving", "Team-draft interleaving of two arms in every list"

    name = models.SlugField(max_length=100, unique=True)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.AB)
    scenarios = models.JSONField(default=list, help_text='e.g. ["home"]')
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT, db_index=True)
    salt = models.CharField(max_length=32, default=_new_salt, help_text="Changing it reshuffles every shopper.")
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    winner = models.CharField(max_length=100, blank=True)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.status})"


class Arm(models.Model):
    """One arm: a share of the shoppers and the policy that serves them."""

    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="arms")
    name = models.SlugField(max_length=100)
    share = models.FloatField(help_text="Share of the experiment's shoppers, 0..1 (A/B); ignored by interleaving.")
    policy = models.CharField(
        max_length=100,
        help_text="student:active, student:<version>, teacher, embedding, trending, or none (the shop's own list)",
    )
    overrides = models.JSONField(
        default=dict, blank=True, help_text='Pipeline settings for this arm: {"diversity": 0, "category_cap": 2, ...}'
    )
    position = models.PositiveSmallIntegerField(default=0, help_text="Order of the arms' slices of [0, 1).")

    class Meta:
        ordering = ["experiment", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["experiment", "name"], name="dragonrec_arm_unique_name")]

    def __str__(self) -> str:
        return f"{self.experiment.name}/{self.name}"


class ExperimentResult(models.Model):
    """The latest figures of an experiment (per arm, lift, sample-ratio check), written by the beat job."""

    experiment = models.OneToOneField(Experiment, on_delete=models.CASCADE, related_name="result")
    computed_at = models.DateTimeField(auto_now=True)
    figures = models.JSONField(default=dict)
    # the ExperimentShopperDay rows hold every list served before this; the next update recomputes only the days
    # that can still change after it (services.experiments.SETTLE)
    aggregated_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"results of {self.experiment.name}"


class Dashboard(Experiment):
    """No data of its own: puts the Recommendations dashboard on the admin index (an admin entry needs a model)."""

    class Meta:
        proxy = True
        verbose_name = verbose_name_plural = "recommendations dashboard"


class ExperimentShopperDay(models.Model):
    """What one shopper of one arm saw and did on one day (the day the lists were served): the partial aggregates
    that experiment results are summed from, so a refresh reads only the days that changed. Per shopper, not per
    arm, because the delta method needs each randomised unit's sums."""

    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="shopper_days")
    day = models.DateField()
    arm = models.CharField(max_length=100)
    shopper = models.CharField(max_length=160)
    lists = models.PositiveIntegerField(default=0)
    shown = models.PositiveIntegerField(default=0)
    clicks = models.PositiveIntegerField(default=0)
    carts = models.PositiveIntegerField(default=0)
    purchases = models.PositiveIntegerField(default=0)
    clicked_lists = models.PositiveIntegerField(default=0)
    revenue = models.FloatField(default=0.0)
    # interleaving: lists this shopper's clicks credited to the first arm, the second, or neither
    wins_a = models.PositiveIntegerField(default=0)
    wins_b = models.PositiveIntegerField(default=0)
    ties = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["experiment", "day", "arm", "shopper"], name="dragonrec_expday_unique_shopper"
            )
        ]
        # erasing a shopper (services.privacy) deletes their rows across experiments: without it, a full scan
        indexes = [models.Index(fields=["shopper"], name="dragonrec_expday_shopper")]

    def __str__(self) -> str:
        return f"{self.experiment_id}/{self.arm}/{self.shopper} on {self.day}"


class JobRun(models.Model):
    """The latest runs of one Celery task of our beat schedule, recorded by Celery's task signals (receivers.py ->
    services.jobs): when it last started, succeeded and failed (with the error), and how long it took."""

    task = models.CharField(max_length=200, unique=True, help_text="The Celery task name.")
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_started_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_duration_s = models.FloatField(null=True, blank=True, help_text="Of the last finished run.")
    last_outcome = models.CharField(max_length=16, blank=True, help_text="success, failure or retry")
    runs = models.PositiveIntegerField(default=0)
    failures = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["task"]
        verbose_name = "scheduled job"

    def __str__(self) -> str:
        return f"{self.task}: {self.last_outcome or 'never ran'}"
