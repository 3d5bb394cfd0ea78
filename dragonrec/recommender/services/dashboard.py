"""Read-only figures and plots for the admin: an experiment's results page and the Recommendations dashboard.

    >>> experiment_page(experiment=exp)["arms"][0]["ctr"]   # {"value", "low", "high"} formatted for the table
    >>> recommendations_dashboard()["plots"]["ctr"]         # an inline <svg> string

Every query is bounded in time (DAYS, COVERAGE_DAYS) and aggregated in SQL: a page load reads at most one row per
day and ranker, never the impressions themselves. Plots are matplotlib, rendered here to inline SVG, so the admin
needs no JavaScript and nothing from outside the machine.
"""

from __future__ import annotations

import io
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
    Impression,
    ImpressionItem,
    ModelVersion,
    TeacherJudgment,
)
from dragonrec.recommender.services.feedback import PURCHASE_VALUE_JOIN
from dragonrec.tracking.selectors import events_table

DAYS = 30  # the dashboard's window: a month shows weekly cycles without scanning the whole impression log
COVERAGE_DAYS = 7  # catalog coverage looks at a week: long enough for slow sellers to get a chance to show
Z95 = 1.96
EXPERIMENTS = 10  # the latest started experiments linked from the dashboard; the rest are in the experiment list

TABLE_METRICS = [
    # (key in experiment_results, label, scale for display, decimals)
    ("ctr", "CTR per impression", 100.0, 2),
    ("list_ctr", "CTR per list", 100.0, 2),
    ("add_to_cart_rate", "add-to-cart rate", 100.0, 2),
    ("conversion_rate", "conversion rate", 100.0, 2),
    ("revenue_per_shopper", "revenue per shopper", 1.0, 2),
    ("revenue_per_1000_impressions", "revenue per 1,000 impressions", 1.0, 2),
]
PERCENT = {"ctr", "list_ctr", "add_to_cart_rate", "conversion_rate"}


# ------------------------------------------------------------------------------------------------ experiment page
def experiment_page(*, experiment: Experiment, lift: float | None = None) -> dict[str, Any]:
    """The results of `experiment` as table rows, with a daily plot of click and conversion rate per arm; an arm
    without the data to detect a CTR `lift` (default DETECTABLE_LIFT) says so instead of its figures."""
    from dragonrec.recommender.services.experiments import (
        DETECTABLE_LIFT,
        experiment_readiness,
        experiment_results,
        not_enough_text,
    )

    detectable = lift or DETECTABLE_LIFT
    results = experiment_results(experiment=experiment)
    readiness = experiment_readiness(results=results, lift=detectable) if results.get("arms") else {}
    arms = []
    for name, figures in (results.get("arms") or {}).items():
        ready = readiness[name]
        row = {
            "enough": ready["enough"],
            "has_figures": ready["has_figures"],
            "not_enough": "" if ready["enough"] else not_enough_text(ready),
            "name": name,
            "policy": figures.get("policy"),
            "share": figures.get("share"),
            "shoppers": figures.get("shoppers"),
            "lists": figures.get("lists"),
            "impressions": figures.get("impressions"),
            "is_control": name == results.get("control"),
            "metrics": [_cell(figures.get(key), key, scale, dp) for key, _, scale, dp in TABLE_METRICS],
        }
        arms.append(row)
    lifts = []
    for name, by_metric in (results.get("lift") or {}).items():
        control_ready = readiness[results["control"]]
        if not (readiness[name]["has_figures"] and control_ready["has_figures"]):
            lifts.append({"name": name, "metrics": [], "no_figures": True})
            continue
        cells = []
        for key, _, _, _ in TABLE_METRICS:
            cells.append(_lift_cell(by_metric.get(key) or {}))
        # figures on too little data are shown, never as significant: a p < 0.05 there is mostly noise
        enough = readiness[name]["enough"] and control_ready["enough"]
        if not enough:
            for cell in cells:
                cell["significant"] = False
        lifts.append({"name": name, "metrics": cells, "not_enough": not enough})
    srm = results.get("sample_ratio")
    daily = experiment_daily(experiment=experiment)
    interleaving = results.get("interleaving")
    return {
        "results": results,
        "lift_percent": round(100 * detectable),
        "metric_labels": [label for _, label, _, _ in TABLE_METRICS],
        "arms": arms,
        "lifts": lifts,
        "control": results.get("control"),
        "sample_ratio": srm,
        "srm_failed": bool(srm and srm.get("judged", True) and not srm.get("ok", True)),
        "srm_judged": bool(srm and srm.get("judged", True)),
        "interleaving": _interleaving_summary(interleaving) if interleaving else None,
        "credits": interleaving_credits(experiment=experiment) if interleaving else [],
        "list_arms": [a.name for a in experiment.arms.all()][:2],
        "daily": daily,
        "plot": _experiment_plot(daily) if daily else "",
    }


def _interleaving_summary(result: dict[str, Any]) -> dict[str, Any]:
    ci = result.get("ci") or [None, None]
    p = result.get("p_value")
    return {
        **result,
        "win_rate": _fmt(result.get("win_rate_b"), 100.0, 1) + "%",
        "interval": f"[{_fmt(ci[0], 100.0, 1)}%, {_fmt(ci[1], 100.0, 1)}%]" if ci[0] is not None else "",
        "p": f"{p:.3g}" if isinstance(p, int | float) else "-",
        "significant": isinstance(p, int | float) and p < 0.05,
    }


CREDIT_LISTS = 20  # the latest clicked lists shown with their credits: enough to see how credit works, one screen


def interleaving_credits(*, experiment: Experiment, limit: int = CREDIT_LISTS) -> list[dict[str, Any]]:
    """The latest interleaved lists with a click: per position the arm that placed the item and whether it was
    clicked and bought, each arm's credit (a click one, a purchase one more, as the results count it) and who won
    the list."""
    arms = [a.name for a in experiment.arms.all()][:2]
    clicked_lists = (
        Impression.objects.filter(experiment=experiment.name, items__clicked_at__isnull=False)
        .distinct()
        .order_by("-created_at")[:limit]
    )
    rows = []
    for impression in clicked_lists.prefetch_related("items"):
        items = {item.position: item for item in impression.items.all()}
        teams = (impression.policy or {}).get("teams", [])
        slots = [
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
                "served_at": impression.created_at,
                "slots": slots,
                "credit": [credit[arm] for arm in arms],
                "winner": leaders[0] if len(leaders) == 1 else "tie",
            }
        )
    return rows


def _fmt(value: Any, scale: float, dp: int) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    return f"{value * scale:,.{dp}f}"


def _cell(metric: dict[str, Any] | None, key: str, scale: float, dp: int) -> dict[str, str]:
    metric = metric or {}
    ci = metric.get("ci") or [None, None]
    unit = "%" if key in PERCENT else ""
    return {
        "value": _fmt(metric.get("value"), scale, dp) + unit,
        "interval": f"[{_fmt(ci[0], scale, dp)}, {_fmt(ci[1], scale, dp)}]" if ci[0] is not None else "",
    }


def _lift_cell(lift: dict[str, Any]) -> dict[str, Any]:
    ci = lift.get("ci") or [None, None]
    p = lift.get("p_value")
    return {
        "value": _fmt(lift.get("relative"), 100.0, 1) + "%" if lift.get("relative") is not None else "-",
        "interval": f"[{_fmt(ci[0], 100.0, 1)}%, {_fmt(ci[1], 100.0, 1)}%]" if ci[0] is not None else "",
        "p_value": f"{p:.3f}" if isinstance(p, int | float) else "-",
        "significant": isinstance(p, int | float) and p < 0.05,
    }


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


def _experiment_plot(daily: list[dict[str, Any]]) -> str:
    figs, axes = _panels(2)
    for ax, key, title in ((axes[0], "ctr", "click rate per item"), (axes[1], "conversion", "conversion per item")):
        for arm in sorted({r["arm"] for r in daily}):
            mine = [r for r in daily if r["arm"] == arm]
            days = [r["day"] for r in mine]
            ax.plot(days, [r[key][0] * 100 for r in mine], marker="o", label=arm)
            ax.fill_between(days, [r[key][1] * 100 for r in mine], [r[key][2] * 100 for r in mine], alpha=0.2)
        ax.set_title(title)
        ax.set_ylabel("%")
        ax.legend(fontsize=8)
        _date_axis(ax, sorted({r["day"] for r in daily}))
        ax.set_ylim(bottom=0)
    return _panels_html(figs)


# ------------------------------------------------------------------------------------------------ dashboard
# one row per ranker and version: serving's label already names a student's version ("student:v3" with model
# version v3), an older or hand-made row may not ("student" with v3)
_RANKER = (
    "CASE WHEN imp.model_version <> '' AND imp.ranker NOT LIKE '%%:' || imp.model_version "
    "THEN imp.ranker || ':' || imp.model_version ELSE imp.ranker END"
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
SELECT date_trunc('day', imp.created_at) AS day,
       {ranker} AS ranker,
       COUNT(DISTINCT imp.request_id) AS lists,
       COUNT(item.id) AS shown,
       COUNT(item.clicked_at) AS clicks,
       COUNT(item.purchased_at) AS purchases,
       COALESCE(SUM(buy.value), 0) AS revenue
FROM {impressions} AS imp
LEFT JOIN {items} AS item ON item.impression_id = imp.request_id
{purchase_value_join}
WHERE imp.created_at >= %s
GROUP BY 1, 2
ORDER BY 1, 2
"""


def recommendations_dashboard(*, days: int = DAYS) -> dict[str, Any]:
    """What the recommender served and earned, what the teacher cost, which models served, and how much of the
    catalog got shown: the figures and inline SVG plots of the admin's Recommendations dashboard."""
    now = timezone.now()
    since = now - timedelta(days=days)
    served = _served(since)
    teacher = _teacher(since)
    versions = _versions(since)
    coverage = catalog_coverage(days=COVERAGE_DAYS)
    buffer = _buffer(now)
    rankers = sorted({r["ranker"] for r in served})
    totals = {
        ranker: {
            "ranker": ranker,
            "name": ranker_name(ranker),
            "lists": sum(r["lists"] for r in served if r["ranker"] == ranker),
            "shown": sum(r["shown"] for r in served if r["ranker"] == ranker),
            "clicks": sum(r["clicks"] for r in served if r["ranker"] == ranker),
            "purchases": sum(r["purchases"] for r in served if r["ranker"] == ranker),
            "revenue": sum(r["revenue"] for r in served if r["ranker"] == ranker),
        }
        for ranker in rankers
    }
    for row in totals.values():
        row["ctr"] = f"{100 * row['clicks'] / row['shown']:.2f}%" if row["shown"] else "-"
        row["conversion"] = f"{100 * row['purchases'] / row['shown']:.2f}%" if row["shown"] else "-"
    plots = {}
    if served:
        plots["served"] = _served_plot(served, rankers)
    if teacher:
        plots["teacher"] = _teacher_plot(teacher)
    if any(v["gate_ndcg"] is not None for v in versions):
        plots["versions"] = _versions_plot(versions)
    from dragonrec.recommender.conf import recommender_settings

    return {
        "currency": recommender_settings.CURRENCY,
        "teacher_enabled": recommender_settings.teacher_enabled,
        "data_days": _data_days(served, teacher),
        "days": days,
        "since": since,
        "served": served,
        "rankers": list(totals.values()),
        "teacher": teacher,
        "teacher_totals": {
            "calls": sum(t["calls"] for t in teacher),
            "cost": sum(t["cost"] for t in teacher),
            "errors": sum(t["errors"] for t in teacher),
        },
        "versions": versions,
        "coverage": coverage,
        "buffer": buffer,
        "experiments": list(
            Experiment.objects.exclude(status=Experiment.Status.DRAFT).order_by("-started_at")[:EXPERIMENTS]
        ),
        "plots": plots,
    }


def _data_days(served: list[dict[str, Any]], teacher: list[dict[str, Any]]) -> dict[str, Any] | None:
    days = sorted({r["day"] for r in served} | {t["day"] for t in teacher})
    return {"first": days[0], "last": days[-1], "count": len(days)} if days else None


def _served(since: Any) -> list[dict[str, Any]]:
    sql = _PER_DAY_RANKER_SQL.format(
        ranker=_RANKER,
        impressions=Impression._meta.db_table,
        items=ImpressionItem._meta.db_table,
        purchase_value_join=PURCHASE_VALUE_JOIN.format(events=events_table()),
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


def _teacher(since: Any) -> list[dict[str, Any]]:
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


def _versions(since: Any) -> list[dict[str, Any]]:
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


def _buffer(now: Any) -> dict[str, Any] | None:
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
    shown = (
        active.filter(pk__in=ImpressionItem.objects.filter(impression__created_at__gte=since).values("product_id"))
        .values("pk")
        .count()
    )
    return {"days": days, "active": total, "shown": shown, "share": shown / total if total else 0.0}


def _served_plot(served: list[dict[str, Any]], rankers: list[str]) -> str:
    figs, axes = _panels(3)
    days = sorted({r["day"] for r in served})
    for ranker in rankers:
        mine = [r for r in served if r["ranker"] == ranker]
        x = [r["day"] for r in mine]
        axes[0].plot(x, [r["lists"] for r in mine], marker="o", label=ranker_name(ranker))
        axes[1].plot(x, [100 * r["ctr"] for r in mine], marker="o", label=ranker_name(ranker))
        axes[2].plot(x, [100 * r["conversion"] for r in mine], marker="o", label=ranker_name(ranker))
    for ax, title in zip(axes, ("lists served", "click rate per item (%)", "conversion per item (%)"), strict=True):
        ax.set_title(title)
        _date_axis(ax, days)
        ax.set_ylim(bottom=0)  # counts and rates: never a negative axis
    axes[0].legend(fontsize=7)
    return _panels_html(figs)


def _teacher_plot(teacher: list[dict[str, Any]]) -> str:
    figs, axes = _panels(3)
    days = [t["day"] for t in teacher]
    axes[0].bar(days, [t["calls"] for t in teacher], label="calls", width=0.6)
    axes[0].bar(days, [t["errors"] for t in teacher], label="errors", color="tab:red", width=0.6)
    axes[0].legend(fontsize=7)
    axes[1].plot(days, [t["cost"] for t in teacher], marker="o")
    axes[2].plot(days, [t["latency"] for t in teacher], marker="o", label="mean")
    axes[2].plot(days, [t["latency_max"] for t in teacher], linestyle="--", label="max")
    axes[2].legend(fontsize=7)
    for ax, title in zip(axes, ("teacher calls", "teacher spend (USD)", "teacher latency (ms)"), strict=True):
        ax.set_title(title)
        _date_axis(ax, days)
        ax.set_ylim(bottom=0)
    return _panels_html(figs)


def _versions_plot(versions: list[dict[str, Any]]) -> str:
    fig, axes = _figure(ncols=1, width=6.0)
    ax = axes[0]
    points = [v for v in versions if v["gate_ndcg"] is not None]
    ax.plot([v["created_at"] for v in points], [v["gate_ndcg"] for v in points], marker="o", color="tab:gray")
    for v in points:
        if v["activated_at"] is not None:
            ax.scatter([v["created_at"]], [v["gate_ndcg"]], color="tab:green", zorder=3, s=60)
        ax.annotate(
            v["version"], (v["created_at"], v["gate_ndcg"]), fontsize=7, xytext=(3, 3), textcoords="offset points"
        )
    _date_axis(ax, sorted({v["created_at"].date() for v in points}))
    ax.set_ylim(bottom=0)
    ax.set_title("held-out NDCG@10 per version (green: activated)")
    return _svg(fig)


def _date_axis(ax: Any, days: list[Any]) -> None:
    """An x axis spanning exactly the data's days (half a day of margin each side), one label per day up to a
    week and evenly spaced beyond: matplotlib's default for one point is a multi-year axis."""
    import matplotlib.dates as mdates

    if not days:
        return
    first, last = min(days), max(days)
    ax.set_xlim(mdates.date2num(first) - 0.5, mdates.date2num(last) + 0.5)
    span = (last - first).days + 1
    ax.xaxis.set_major_locator(mdates.DayLocator(interval=max(1, math.ceil(span / 7))))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %d"))


# ------------------------------------------------------------------------------------------------ plotting
def _figure(*, ncols: int, width: float | None = None) -> tuple[Any, list[Any]]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, ncols, figsize=(width or 4.2 * ncols, 3.0))
    return fig, list(axes) if ncols > 1 else [axes]


def _panels(n: int) -> tuple[list[Any], list[Any]]:
    """`n` one-plot figures: laid side by side on a desktop and one under another on a phone (_panels_html),
    where one figure of `n` plots would shrink to an unreadable strip."""
    figures = [_figure(ncols=1, width=4.2) for _ in range(n)]
    return [fig for fig, _ in figures], [axes[0] for _, axes in figures]


def _panels_html(figs: list[Any]) -> str:
    cells = "".join(f'<div style="flex:1 1 280px;max-width:480px">{_svg(fig)}</div>' for fig in figs)
    return f'<div class="dragonrec-panels" style="display:flex;flex-wrap:wrap;gap:8px">{cells}</div>'


def _svg(fig: Any) -> str:
    """The figure as an <svg> element to inline in a page (no XML prolog, no external references)."""
    import matplotlib.pyplot as plt

    for ax in fig.axes:
        ax.tick_params(labelsize=7)
        for label in ax.get_xticklabels():
            label.set_rotation(30)
    fig.tight_layout()
    buffer = io.StringIO()
    # text stays text (smaller, selectable, and the axis labels can be read back by a test)
    with plt.rc_context({"svg.fonttype": "none"}):
        fig.savefig(buffer, format="svg")
    plt.close(fig)
    text = buffer.getvalue()
    # never wider than the page: scales down on a phone or beside the admin's sidebar
    return text[text.index("<svg") :].replace(
        "<svg ", '<svg class="dragonrec-plot" style="width:100%;max-width:100%;height:auto" ', 1
    )
