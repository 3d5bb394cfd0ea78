"""The dashboard's plots: matplotlib, rendered here to inline SVG, so the admin needs no JavaScript and nothing
from outside the machine."""

from __future__ import annotations

import io
import math
from typing import Any

from dragonrec.recommender.services.dashboard.selectors import ranker_name


def experiment_plot(daily: list[dict[str, Any]]) -> str:
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


def served_plot(served: list[dict[str, Any]], rankers: list[str]) -> str:
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


def teacher_plot(teacher: list[dict[str, Any]]) -> str:
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


def versions_plot(versions: list[dict[str, Any]]) -> str:
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
