"""Per-shopper-day aggregates of an experiment's served lists (the unit that was randomised is the shopper), kept up
to date incrementally: the analysis sums them."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from dragonrec.recommender.core import experiments as stats
from dragonrec.recommender.models import (
    Experiment,
    ExperimentResult,
    ExperimentShopperDay,
    ServedList,
    ServedOutcome,
    ServingPolicy,
)
from dragonrec.recommender.services.feedback import list_outcomes_join
from dragonrec.tracking.identity import shopper_key, shopper_key_sql

# A list's figures change until its clicks are in (the flush, the rewards job's 1-hour click sweep) and its carts and
# purchases are credited (feedback.rewards_attribute looks back 2 days of clicks, each within a 1-day window): the
# days served within SETTLE of the last update are recomputed, older ones are summed as stored.
SETTLE = timedelta(days=3)
# An update rewrites the SETTLE days' rows: an admin page or an API client polling the results would otherwise do it
# on every read. Figures a minute old are as good to read; the beat job refreshes them regardless.
FRESH = timedelta(minutes=1)
EPOCH = date(1970, 1, 1)

# Per day, arm and shopper: lists, shown items, clicks, carts, purchases and the revenue of attributed purchases,
# over the impressions served since %s (indexed by experiment, created_at). Days are UTC dates.
_SHOPPER_DAYS_SQL = """
INSERT INTO {aggregates} (experiment_id, day, arm, shopper, lists, shown, clicks, carts, purchases, clicked_lists,
                          revenue, wins_a, wins_b, ties)
SELECT %s,
       (l.served_at AT TIME ZONE 'UTC')::date AS day,
       p.arm,
       {shopper_key} AS shopper,
       COUNT(*),
       COALESCE(SUM(dragonrec_item_count(l.item_ids)), 0),
       COALESCE(SUM(out.clicks), 0),
       COALESCE(SUM(out.carts), 0),
       COALESCE(SUM(out.purchases), 0),
       COUNT(*) FILTER (WHERE out.clicks > 0),
       COALESCE(SUM(out.revenue), 0),
       0, 0, 0
FROM {lists} AS l
JOIN {policies} AS p ON p.id = l.policy_id
{list_outcomes_join}
WHERE p.experiment = %s AND l.served_at >= %s
GROUP BY 2, 3, 4
"""

METRICS = {
    # name: (numerator column, denominator column)
    "ctr": ("clicks", "shown"),  # clicks per shown item
    "list_ctr": ("clicked_lists", "lists"),  # lists with at least one click, per list
    "add_to_cart_rate": ("carts", "shown"),
    "conversion_rate": ("purchases", "shown"),
    "revenue_per_shopper": ("revenue", None),
    "revenue_per_1000_impressions": ("revenue", "shown"),
}
_COLUMNS = ("lists", "shown", "clicks", "carts", "purchases", "clicked_lists", "revenue")


@transaction.atomic
def experiment_aggregates_update(*, experiment: Experiment, rebuild: bool = False) -> date:
    """Bring the experiment's per-shopper-day aggregates up to date: recompute the days served since SETTLE before
    the last update (every day on the first update, or with `rebuild`), leave older days as they are. Returns the
    first day recomputed. Serialised per experiment (the beat job and an admin page may run it at once)."""
    state, _ = ExperimentResult.objects.get_or_create(experiment=experiment)
    state = ExperimentResult.objects.select_for_update().get(pk=state.pk)
    now = timezone.now()
    first_day = (
        EPOCH if rebuild or state.aggregated_at is None else (state.aggregated_at - SETTLE).astimezone(UTC).date()
    )
    start = datetime.combine(first_day, time.min, tzinfo=UTC)
    ExperimentShopperDay.objects.filter(experiment=experiment, day__gte=first_day).delete()
    with connection.cursor() as cursor:
        cursor.execute(
            _SHOPPER_DAYS_SQL.format(
                aggregates=ExperimentShopperDay._meta.db_table,
                lists=ServedList._meta.db_table,
                policies=ServingPolicy._meta.db_table,
                list_outcomes_join=list_outcomes_join(),
                shopper_key=shopper_key_sql(user_column="l.user_id", session_column="l.session_id"),
            ),
            [experiment.pk, experiment.name, start],
        )
    if experiment.kind == Experiment.Kind.INTERLEAVING:
        _interleaving_credit(experiment=experiment, start=start)
    state.aggregated_at = now
    state.save(update_fields=["aggregated_at"])
    return first_day


def _interleaving_credit(*, experiment: Experiment, start: datetime) -> None:
    """Team-draft credit of the lists served since `start`, added to their shopper-day rows: each list with a click
    or a purchase is won by the arm whose picks earned more credit (a click one, a purchase one more)."""
    arms = [a.name for a in experiment.arms.all()][:2]
    if len(arms) < 2:
        return
    lists = (
        ServedList.objects.filter(policy__experiment=experiment.name, served_at__gte=start, teams__isnull=False)
        .select_related("policy")
        .only("request_id", "served_at", "user_id", "session_id", "teams", "policy__arm", "policy__policy")
    )
    clicked: dict[Any, set[int]] = {}
    purchased: dict[Any, set[int]] = {}
    outcomes = ServedOutcome.objects.filter(
        request_id__in=lists.values("request_id"),
        served_at__gte=start,
        kind__in=[ServedOutcome.Kind.CLICK, ServedOutcome.Kind.PURCHASE],
    )
    for rid, position, kind in outcomes.values_list("request_id", "position", "kind"):
        (clicked if kind == ServedOutcome.Kind.CLICK else purchased).setdefault(rid, set()).add(position)
    credit: dict[tuple[date, str, str], dict[str, int]] = {}
    for served in lists.iterator(chunk_size=2000):
        rid, created_at, arm = served.request_id, served.served_at, served.policy.arm
        user_id, session_id = served.user_id, served.session_id
        teams = served.team_list()
        if not teams:
            continue
        marks = ["a" if t == arms[0] else "b" for t in teams]
        outcome = stats.interleaving_outcome(
            marks,
            [k + 1 in clicked.get(rid, set()) for k in range(len(marks))],
            [k + 1 in purchased.get(rid, set()) for k in range(len(marks))],
        )
        shopper = shopper_key(user_id=user_id, session_id=session_id)
        key = (created_at.astimezone(UTC).date(), arm, shopper)
        counts = credit.setdefault(key, {"a": 0, "b": 0, "tie": 0})
        counts[outcome] += 1
    rows = list(ExperimentShopperDay.objects.filter(experiment=experiment, day__gte=start.date()))
    for row in rows:
        counts = credit.get((row.day, row.arm, row.shopper), {"a": 0, "b": 0, "tie": 0})
        row.wins_a, row.wins_b, row.ties = counts["a"], counts["b"], counts["tie"]
    ExperimentShopperDay.objects.bulk_update(rows, ["wins_a", "wins_b", "ties"], batch_size=2000)
