"""The dashboard's queries: every one bounded in time and aggregated in SQL, so a page load reads at most one row per
day and ranker (or arm), never the impressions themselves."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

from django.db import connection
from django.db.models import Avg, Count, Max, Q, Sum
from django.db.models.functions import TruncDay
from django.utils import timezone

from dragonrec.recommender.adapters import product_model
from dragonrec.recommender.models import (
    Experiment,
    ExperimentShopperDay,
    ModelVersion,
    ServedList,
    ServedOutcome,
    ServingPolicy,
    TeacherJudgment,
)
from dragonrec.recommender.selectors import served_items
from dragonrec.recommender.services.feedback import list_outcomes_join

COVERAGE_DAYS = 7  # catalog coverage looks at a week: long enough for slow sellers to get a chance to show
Z95 = 1.96

CREDIT_LISTS = 20  # the latest clicked lists shown with their credits: enough to see how credit works, one screen


def interleaving_credits(*, experiment: Experiment, limit: int = CREDIT_LISTS) -> list[dict[str, Any]]:
    """The latest interleaved lists with a click: per position the arm that placed the item and whether it was
    clicked and bought, each arm's credit (a click one, a purchase one more, as the results count it) and who won
    the list."""
    arms = [a.name for a in experiment.arms.all()][:2]
    clicked = ServedOutcome.objects.filter(kind=ServedOutcome.Kind.CLICK).values("request_id")
    latest = list(
        ServedList.objects.filter(policy__experiment=experiment.name, request_id__in=clicked)
        .select_related("policy")
        .defer("context")
        .order_by("-served_at")[:limit]
    )
    rows = []
    outcomes = served_items(latest)
    for impression in latest:
        items = {item.position: item for item in outcomes[impression.request_id]}
        teams = impression.team_list()
        slots: list[dict[str, Any]] = [
            {
                "arm": team,
                "clicked": k + 1 in items and items[k + 1].clicked_at is not None,
                "purchased": k + 1 in items and items[k + 1].purchased_at is not None,
            }
            for k, team in enumerate(teams)
        ]
        credit = {arm: sum(int(s["clicked"]) + int(s["purchased"]) for s in slots if s["arm"] == arm) for arm in arms}
        best = max(credit.values(), default=0)
        leaders = [arm for arm, c in credit.items() if c == best]
        rows.append(
            {
                "served_at": impression.served_at,
                "slots": slots,
                "credit": [credit[arm] for arm in arms],
                "winner": leaders[0] if len(leaders) == 1 else "tie",
            }
        )
    return rows


def experiment_daily(*, experiment: Experiment) -> list[dict[str, Any]]:
    """Per day and arm: items shown, clicked and bought, with normal-approximation 95% intervals of the rates.

    The daily intervals treat items as independent (they are clustered by shopper), so they are narrower than the
    table's delta-method intervals: the plot shows the trend, the table decides."""
    # from the per-shopper-day aggregates that experiment_results has just brought up to date (or found updated
    # within FRESH): no impression is read
    rows = (
        ExperimentShopperDay.objects.filter(experiment=experiment)
        .values("day", "arm")
        .annotate(shown=Sum("shown"), clicks=Sum("clicks"), purchases=Sum("purchases"))
        .order_by("day", "arm")
    )
    out = []
    for row in rows:
        n = row["shown"]
        out.append(
            {
                "day": row["day"],
                "arm": row["arm"],
                "shown": n,
                "ctr": _rate(row["clicks"], n),
                "conversion": _rate(row["purchases"], n),
            }
        )
    return out


def _rate(k: int, n: int) -> tuple[float, float, float]:
    if not n:
        return (0.0, 0.0, 0.0)
    p = k / n
    half = Z95 * math.sqrt(p * (1 - p) / n)
    return (p, max(0.0, p - half), min(1.0, p + half))


# one row per ranker and version: serving's label already names a student's version ("student:v3" with model
# version v3), an older or hand-made row may not ("student" with v3)
_RANKER = (
    "CASE WHEN p.model_version <> '' AND p.ranker NOT LIKE '%%:' || p.model_version "
    "THEN p.ranker || ':' || p.model_version ELSE p.ranker END"
)

RANKER_NAMES = {
    "trending": "Trending",
    "embedding": "Similar products (text embeddings)",
    "teacher": "LLM teacher",
    "none": "The shop's own list",
}


def ranker_name(ranker: str) -> str:
    """What an owner reads for a ranker label: "Personal model v3" for "student:v3", "Trending", ..."""
    if ranker.startswith("student:"):
        return f"Personal model {ranker.split(':', 1)[1]}"
    if ranker.startswith("interleaved:"):
        return "Interleaved: " + " + ".join(ranker.split(":", 1)[1].split("+"))
    return RANKER_NAMES.get(ranker, ranker)


_PER_DAY_RANKER_SQL = """
SELECT date_trunc('day', l.served_at) AS day,
       {ranker} AS ranker,
       COUNT(*) AS lists,
       COALESCE(SUM(dragonrec_item_count(l.item_ids)), 0) AS shown,
       COALESCE(SUM(out.clicks), 0) AS clicks,
       COALESCE(SUM(out.purchases), 0) AS purchases,
       COALESCE(SUM(out.revenue), 0) AS revenue
FROM {lists} AS l
JOIN {policies} AS p ON p.id = l.policy_id
{list_outcomes_join}
WHERE l.served_at >= %s
GROUP BY 1, 2
ORDER BY 1, 2
"""


def served_per_day(since: Any) -> list[dict[str, Any]]:
    sql = _PER_DAY_RANKER_SQL.format(
        ranker=_RANKER,
        lists=ServedList._meta.db_table,
        policies=ServingPolicy._meta.db_table,
        list_outcomes_join=list_outcomes_join(),
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [since])
        columns = [c[0] for c in cursor.description]
        rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    for row in rows:
        row["day"] = row["day"].date()
        row["revenue"] = float(row["revenue"])
        row["ctr"] = row["clicks"] / row["shown"] if row["shown"] else 0.0
        row["conversion"] = row["purchases"] / row["shown"] if row["shown"] else 0.0
    return rows


def teacher_per_day(since: Any) -> list[dict[str, Any]]:
    # cache hits cost nothing and take no time: they are counted apart so spend and latency describe real calls
    rows = (
        TeacherJudgment.objects.filter(created_at__gte=since)
        .annotate(day=TruncDay("created_at"))
        .values("day")
        .annotate(
            calls=Count("id", filter=Q(cache_hit=False)),
            cache_hits=Count("id", filter=Q(cache_hit=True)),
            errors=Count("id", filter=~Q(error="")),
            cost=Sum("cost_usd"),
            latency=Avg("latency_ms", filter=Q(cache_hit=False)),
            latency_max=Max("latency_ms", filter=Q(cache_hit=False)),
        )
        .order_by("day")
    )
    out = []
    for row in rows:
        total = row["calls"] + row["cache_hits"]
        out.append(
            {
                "day": row["day"].date(),
                "calls": row["calls"],
                "cache_hits": row["cache_hits"],
                "errors": row["errors"],
                "error_rate": row["errors"] / total if total else 0.0,
                "cost": float(row["cost"] or 0),
                "latency": float(row["latency"] or 0),
                "latency_max": row["latency_max"] or 0,
            }
        )
    return out


def versions_since(since: Any) -> list[dict[str, Any]]:
    # the window's versions plus whichever is serving now, however old
    qs = ModelVersion.objects.filter(Q(created_at__gte=since) | Q(status=ModelVersion.Status.ACTIVE)).order_by(
        "created_at"
    )
    out = []
    for v in qs[:200]:  # bounded: a training a day is 30; a runaway loop must not make the page unreadable
        gate = v.metrics.get("gate_ndcg@10")
        out.append(
            {
                "version": v.version,
                "name": ranker_name(f"student:{v.version}"),
                "kind": v.get_kind_display(),
                "status": v.status,
                "created_at": v.created_at,
                "activated_at": v.activated_at,
                "gate_ndcg": gate if isinstance(gate, int | float) else None,
                "valid_ndcg": v.valid_ndcg10,
            }
        )
    return out


def buffer_state(now: Any) -> dict[str, Any] | None:
    """Impressions served but not yet written, and how long the oldest has waited; None when Redis is down."""
    from dragonrec.recommender.services.impressions import impressions_buffer_state

    try:
        state = impressions_buffer_state()
    except Exception:  # the page must render while Redis is down; the template says so
        return None
    return {"depth": state.depth, "lag_s": state.lag_s(now)}


def catalog_coverage(*, days: int = COVERAGE_DAYS) -> dict[str, Any]:
    """Share of the active products that were shown in at least one list in the last `days` days."""
    since = timezone.now() - timedelta(days=days)
    active = product_model()._default_manager.filter(is_active=True)
    total = active.count()
    with connection.cursor() as cursor:  # the distinct products of the period's lists, unnested in the database
        table = ServedList._meta.db_table
        cursor.execute(
            f"SELECT DISTINCT unnest(dragonrec_item_ids(item_ids)) FROM {table} WHERE served_at >= %s", [since]
        )
        ids = [row[0] for row in cursor.fetchall()]
    shown = active.filter(pk__in=ids).count()
    return {"days": days, "active": total, "shown": shown, "share": shown / total if total else 0.0}
