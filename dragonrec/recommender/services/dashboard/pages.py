"""The admin's two report pages as data for their templates: an experiment's results (table rows, lifts, the daily
plot) and the Recommendations dashboard. Reads from `selectors`, draws with `plots`."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

from django.utils import timezone

from dragonrec.recommender.models import Experiment
from dragonrec.recommender.services.dashboard.plots import experiment_plot, served_plot, teacher_plot, versions_plot
from dragonrec.recommender.services.dashboard.selectors import (
    COVERAGE_DAYS,
    buffer_state,
    catalog_coverage,
    experiment_daily,
    interleaving_credits,
    ranker_name,
    served_per_day,
    teacher_per_day,
    versions_since,
)

DAYS = 30  # the dashboard's window: a month shows weekly cycles without scanning the whole impression log
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
        "plot": experiment_plot(daily) if daily else "",
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


def recommendations_dashboard(*, days: int = DAYS) -> dict[str, Any]:
    """What the recommender served and earned, what the teacher cost, which models served, and how much of the
    catalog got shown: the figures and inline SVG plots of the admin's Recommendations dashboard."""
    now = timezone.now()
    since = now - timedelta(days=days)
    served = served_per_day(since)
    teacher = teacher_per_day(since)
    versions = versions_since(since)
    coverage = catalog_coverage(days=COVERAGE_DAYS)
    buffer = buffer_state(now)
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
        plots["served"] = served_plot(served, rankers)
    if teacher:
        plots["teacher"] = teacher_plot(teacher)
    if any(v["gate_ndcg"] is not None for v in versions):
        plots["versions"] = versions_plot(versions)
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
