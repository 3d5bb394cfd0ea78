"""Experiments in Django: lifecycle, assignment in serving, the recorded arm, results against a hand-computed
fixture, the staff-only results API, interleaving."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import CommandError, call_command

from dragonrec.recommender.models import Experiment, ServedList
from dragonrec.recommender.services import experiments as svc
from dragonrec.recommender.services.impressions import impression_record_build, impressions_flush, impressions_write
from dragonrec.tracking.factories import EventFactory
from tests.served_lists import served_outcomes

CLICKED_AT = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_cache():  # type: ignore[no-untyped-def]
    svc.experiments_reset()
    yield
    svc.experiments_reset()


def start(name: str, *arms: str, scenario: str = "home", interleaving: bool = False) -> Experiment:
    args = ["create", name, "--scenario", scenario] + [x for a in arms for x in ("--arm", a)]
    call_command("recommender_experiment", *args, *(["--interleaving"] if interleaving else []))
    call_command("recommender_experiment", "start", name)
    return Experiment.objects.get(name=name)


def test_a_running_experiment_serves_each_shopper_their_arm_and_records_it(
    api_client, tiny_shop, shopper_cookie
) -> None:  # type: ignore[no-untyped-def]
    experiment = start("trend-test", "control=student:active:50", "treatment=trending:50")
    seen = {}
    for k in range(12):
        EventFactory(session_id=f"s-x{k}", product=tiny_shop["monitor"], type="view")
        client = shopper_cookie(api_client.__class__(), f"s-x{k}")
        body = client.get("/api/recommendations/", {"scenario": "home", "n": 4}).json()
        assert body["experiment"] == "trend-test"
        assert body["arm"] == svc.experiment_assignment(scenario="home", user_key=f"s:s-x{k}")[1].name
        again = client.get("/api/recommendations/", {"scenario": "home", "n": 4}).json()
        assert again["arm"] == body["arm"]  # sticky
        seen[body["request_id"]] = body["arm"]
        if body["arm"] == "treatment":
            assert body["ranker"] == "trending"
    assert set(seen.values()) == {"control", "treatment"}
    impressions_flush()
    recorded = dict(
        ServedList.objects.filter(policy__experiment=experiment.name).values_list("request_id", "policy__arm")
    )
    assert {str(k): v for k, v in recorded.items()} | seen == {str(k): v for k, v in recorded.items()}
    # a product page is not in the experiment
    other = shopper_cookie(api_client.__class__(), "s-x0").get(
        "/api/recommendations/", {"scenario": "product", "product_id": tiny_shop["monitor"].id}
    )
    assert other.json()["experiment"] is None and other.json()["arm"] is None


def test_one_running_experiment_per_scenario_and_clear_errors() -> None:
    # a draft on home made before "first" started: its start is refused, as a new one on home is at creation
    call_command("recommender_experiment", "create", "second", "--scenario", "home", "--arm", "a=trending:50",
                 "--arm", "b=embedding:50")  # fmt: skip
    start("first", "a=student:active:50", "b=embedding:50")
    with pytest.raises(CommandError, match="first is already running on home"):
        call_command("recommender_experiment", "start", "second")
    with pytest.raises(CommandError, match="first is already running on home"):
        call_command("recommender_experiment", "create", "third", "--scenario", "home", "--arm", "a=trending:50",
                     "--arm", "b=embedding:50")  # fmt: skip
    with pytest.raises(CommandError, match=r"policy 'trendng'"):
        call_command("recommender_experiment", "create", "typo", "--scenario", "cart", "--arm", "a=trendng:50",
                     "--arm", "b=embedding:50")  # fmt: skip
    with pytest.raises(CommandError, match=r"policy 'magic'"):
        call_command("recommender_experiment", "create", "bad", "--scenario", "home", "--arm", "a=magic:50",
                     "--arm", "b=trending:50")  # fmt: skip
    with pytest.raises(CommandError, match=r"add up to 1\.20"):
        call_command("recommender_experiment", "create", "over", "--scenario", "home", "--arm", "a=trending:60",
                     "--arm", "b=embedding:60")  # fmt: skip
    call_command("recommender_experiment", "stop", "first", "--winner", "b")
    assert Experiment.objects.get(name="first").winner == "b"


def _log(
    experiment: str,
    arm: str,
    shopper: str,
    items: list[int],
    clicks: set[int],
    teams: list[str] | None = None,
    served_at: datetime | None = None,
) -> uuid.UUID:
    request_id = uuid.uuid4()
    record = impression_record_build(
        request_id=request_id, user_id=None, session_id=shopper, scenario="home", anchor_ids=[], ranker="x",
        model_version="", context={}, items=[(pid, pos, 1.0, "x", 1.0) for pos, pid in enumerate(items, 1)],
        experiment=experiment, arm=arm, **({"policy": {"teams": teams}} if teams else {}),
    )  # fmt: skip
    if served_at is not None:
        record["created_at"] = served_at.isoformat()
    impressions_write([record])
    for position in clicks:
        served_outcomes(request_id, position, clicked_at=CLICKED_AT)
    return request_id


def test_results_equal_a_hand_computed_fixture(tiny_shop, admin_client, client) -> None:  # type: ignore[no-untyped-def]
    experiment = start("fixture", "control=student:active:50", "treatment=trending:50")
    p = [tiny_shop[k].id for k in ("monitor", "kettle", "shoe_road", "shoe_trail")]
    # control: shopper c1 two lists of 4 (1 click), c2 one list (0 clicks); treatment: t1 one list (2 clicks)
    _log("fixture", "control", "c1", p, {1})
    _log("fixture", "control", "c1", p, set())
    _log("fixture", "control", "c2", p, set())
    _log("fixture", "treatment", "t1", p, {1, 2})
    results = svc.experiment_results(experiment=experiment)
    control, treatment = results["arms"]["control"], results["arms"]["treatment"]
    assert (control["shoppers"], control["lists"], control["impressions"]) == (2, 3, 12)
    assert control["ctr"]["value"] == pytest.approx(1 / 12)
    assert control["list_ctr"]["value"] == pytest.approx(1 / 3)
    assert treatment["ctr"]["value"] == pytest.approx(2 / 4)
    assert results["lift"]["treatment"]["ctr"]["relative"] == pytest.approx((2 / 4) / (1 / 12) - 1)
    assert results["sample_ratio"]["ok"]
    # the same figures over the staff-only API
    url = f"/api/experiments/{experiment.id}/results/"
    assert client.get(url).status_code == 403
    body = admin_client.get(url).json()
    assert body["arms"]["treatment"]["ctr"]["value"] == pytest.approx(0.5)
    assert admin_client.get("/api/experiments/999999/results/").status_code == 404


def test_interleaving_mixes_both_rankers_and_credits_clicks_to_a_team(api_client, tiny_shop, shopper_cookie) -> None:  # type: ignore[no-untyped-def]
    experiment = start("mix", "a=embedding:50", "b=trending:50", interleaving=True)
    EventFactory(session_id="s-mix", product=tiny_shop["monitor"], type="view")
    body = shopper_cookie(api_client, "s-mix").get("/api/recommendations/", {"scenario": "home", "n": 4}).json()
    assert body["experiment"] == "mix" and body["arm"] == "interleaved"
    impressions_flush()
    impression = ServedList.objects.select_related("policy").get(request_id=body["request_id"])
    teams = impression.team_list()
    assert len(teams) == 4 and set(teams) <= {"a", "b"}
    b_position = teams.index("b") + 1 if "b" in teams else None
    if b_position:
        served_outcomes(impression.request_id, b_position, clicked_at=CLICKED_AT)
        result = svc.experiment_results(experiment=experiment)["interleaving"]
        assert result["wins_b"] == 1 and result["wins_a"] == 0


def test_interleaving_results_treat_each_shopper_as_one_unit_and_credit_purchases(tiny_shop) -> None:  # type: ignore[no-untyped-def]
    import math

    experiment = start("units", "a=embedding:50", "b=trending:50", interleaving=True)
    p = [tiny_shop[k].id for k in ("monitor", "kettle")]
    # given: one returning shopper who gives b all 10 of their lists, and 5 shoppers who each give a their one list
    for _ in range(10):
        _log("units", "interleaved", "loyal", p, {2}, teams=["a", "b"])
    for k in range(5):
        _log("units", "interleaved", f"once-{k}", p, {1}, teams=["a", "b"])
    # and a list where both picks are clicked but b's is bought: the purchase's extra credit gives it to b
    bought = _log("units", "interleaved", "buyer", p, {1, 2}, teams=["a", "b"])
    served_outcomes(bought, 2, purchased_at=CLICKED_AT + timedelta(minutes=5))
    # when
    result = svc.experiment_results(experiment=experiment)["interleaving"]
    # then: 11 lists won by b, 5 by a, over 7 shoppers
    assert (result["lists"], result["wins_a"], result["wins_b"], result["ties"], result["shoppers"]) == (
        16,
        5,
        11,
        0,
        7,
    )
    assert result["win_rate_b"] == pytest.approx(11 / 16)
    # one shopper's ten lists are one unit's evidence: the interval is far wider than 16 independent lists' would be
    list_level_half_width = 1.96 * math.sqrt(11 / 16 * 5 / 16 / 16)
    assert result["ci"][0] < 0.5 < result["ci"][1] and result["p_value"] > 0.2
    assert (result["ci"][1] - result["ci"][0]) / 2 > 1.3 * list_level_half_width


def _figures(experiment: Experiment) -> dict[str, object]:
    return {k: v for k, v in svc.experiment_results(experiment=experiment).items() if k != "computed_at"}


def test_incremental_results_equal_a_full_recomputation_and_leave_settled_days_alone(tiny_shop) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, timedelta

    from django.utils import timezone

    from dragonrec.recommender.models import ExperimentShopperDay

    experiment = start("incr", "control=student:active:50", "treatment=trending:50")
    p = [tiny_shop[k].id for k in ("monitor", "kettle", "shoe_road", "shoe_trail")]
    now = timezone.now()

    def served(days_ago: int, arm: str, shopper: str, clicks: set[int]) -> uuid.UUID:
        return _log("incr", arm, shopper, p, clicks, served_at=now - timedelta(days=days_ago))

    # given a month of lists, aggregated once
    for day in (30, 20, 10):
        served(day, "control", "c1", {1})
        served(day, "treatment", "t1", {1, 2})
    served(20, "treatment", "t2", set())
    assert svc.experiment_aggregates_update(experiment=experiment) == svc.EPOCH
    # when lists arrive today, a list of yesterday gets a late click, and the beat job runs again
    served(0, "control", "c2", {3})
    served(0, "treatment", "t1", set())
    late = served(1, "control", "c1", set())
    first = svc.experiment_aggregates_update(experiment=experiment)
    served_outcomes(late, 2, clicked_at=now)
    svc.experiment_results_refresh()
    # then only the unsettled days were recomputed ...
    assert first == (now - svc.SETTLE).astimezone(UTC).date()
    assert ExperimentShopperDay.objects.filter(experiment=experiment).count() == 10
    incremental = _figures(experiment)
    assert incremental["arms"]["control"]["impressions"] == 5 * 4 and incremental["arms"]["control"]["shoppers"] == 2
    # ... and the figures equal those of a recomputation from scratch
    svc.experiment_aggregates_update(experiment=experiment, rebuild=True)
    assert _figures(experiment) == incremental
    # a list served before the settled window is not read again: a click written straight into it shows only
    # after a rebuild, which proves the refresh did not rescan the month
    old = ServedList.objects.filter(policy__experiment="incr", served_at__lt=now - timedelta(days=25))
    for request_id in old.values_list("request_id", flat=True):
        served_outcomes(request_id, 4, clicked_at=now)
    svc.experiment_aggregates_update(experiment=experiment)
    assert _figures(experiment) == incremental
    svc.experiment_aggregates_update(experiment=experiment, rebuild=True)
    assert _figures(experiment)["arms"]["control"]["ctr"]["value"] > incremental["arms"]["control"]["ctr"]["value"]


def test_erasing_a_shopper_erases_their_rows_of_the_experiment_aggregates(tiny_shop) -> None:  # type: ignore[no-untyped-def]
    from dragonrec.recommender.models import ExperimentShopperDay
    from dragonrec.recommender.services.privacy import shopper_data_erase

    experiment = start("gdpr", "control=student:active:50", "treatment=trending:50")
    _log("gdpr", "control", "c-gone", [tiny_shop["monitor"].id], {1})
    _log("gdpr", "control", "c-stays", [tiny_shop["monitor"].id], set())
    svc.experiment_aggregates_update(experiment=experiment)
    shopper_data_erase(user_id=None, session_id="c-gone")
    assert list(ExperimentShopperDay.objects.values_list("shopper", flat=True)) == ["s:c-stays"]


def test_a_results_read_reuses_aggregates_updated_within_a_minute_and_the_beat_job_always_updates(tiny_shop) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from dragonrec.recommender.models import ExperimentResult

    experiment = start("fresh", "control=student:active:50", "treatment=trending:50")
    p = [tiny_shop["monitor"].id, tiny_shop["kettle"].id]
    _log("fresh", "control", "c1", p, {1})
    assert svc.experiment_results(experiment=experiment)["arms"]["control"]["lists"] == 1
    watermark = ExperimentResult.objects.get(experiment=experiment).aggregated_at
    # when a list arrives and the page is read again within the minute: the aggregates are not rewritten
    _log("fresh", "control", "c2", p, set())
    assert svc.experiment_results(experiment=experiment)["arms"]["control"]["lists"] == 1
    assert ExperimentResult.objects.get(experiment=experiment).aggregated_at == watermark
    # a minute later the read brings them up to date
    ExperimentResult.objects.filter(experiment=experiment).update(aggregated_at=watermark - svc.FRESH)
    assert svc.experiment_results(experiment=experiment)["arms"]["control"]["lists"] == 2
    # the beat job does not wait: a list served just now is in its figures at once
    _log("fresh", "treatment", "t1", p, set())
    svc.experiment_results_refresh()
    figures = ExperimentResult.objects.get(experiment=experiment).figures
    assert figures["arms"]["treatment"]["lists"] == 1
    assert ExperimentResult.objects.get(experiment=experiment).aggregated_at > watermark - timedelta(seconds=1)


def test_the_shopper_aggregates_are_indexed_by_shopper_for_erasure() -> None:
    from django.db import connection

    from dragonrec.recommender.models import ExperimentShopperDay

    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, ExperimentShopperDay._meta.db_table)
    assert any(c["index"] and c["columns"] == ["shopper"] for c in constraints.values())


def test_shopper_keys_of_the_figures_follow_the_identity_rule_also_for_an_empty_session(tiny_shop) -> None:  # type: ignore[no-untyped-def]
    """The aggregates are keyed like everything else (tracking.identity.shopper_key): erasure, the gate and the
    online update find a shopper's rows by that key. A list with no session and no user (an integration that named
    nobody) belongs to nobody we can remember: key "", not a made-up "s:" shopper."""
    from django.db import connection

    from dragonrec.recommender.models import ExperimentShopperDay
    from dragonrec.tracking.identity import shopper_key, shopper_key_sql

    # the SQL spelling of the rule agrees with the function on every edge
    cases = [(None, ""), (None, "c-1"), (7, ""), (7, "c-1")]
    with connection.cursor() as cursor:
        for user_id, session_id in cases:
            cursor.execute(
                f"SELECT {shopper_key_sql(user_column='u', session_column='s')} FROM (SELECT %s::int AS u, %s AS s) t",
                [user_id, session_id],
            )
            assert cursor.fetchone()[0] == shopper_key(user_id=user_id, session_id=session_id)
    # given: an A/B list served to a named session and one served with an empty session id
    experiment = start("keys", "control=student:active:50", "treatment=trending:50")
    _log("keys", "control", "c-named", [tiny_shop["monitor"].id], {1})
    _log("keys", "control", "", [tiny_shop["monitor"].id], {1})
    # when
    svc.experiment_aggregates_update(experiment=experiment)
    # then
    assert sorted(ExperimentShopperDay.objects.values_list("shopper", flat=True)) == ["", "s:c-named"]


def test_interleaving_credit_keys_an_empty_session_by_the_identity_rule(tiny_shop) -> None:  # type: ignore[no-untyped-def]
    """The interleaving credit is matched to the aggregate rows by shopper key: a list with an empty session id must
    get its win too (with a rule of its own it would look for "s:" and credit nothing)."""
    experiment = start("keys-il", "a=embedding:50", "b=trending:50", interleaving=True)
    p = [tiny_shop[k].id for k in ("monitor", "kettle")]
    _log("keys-il", "interleaved", "", p, {2}, teams=["a", "b"])
    result = svc.experiment_results(experiment=experiment)["interleaving"]
    assert (result["lists"], result["wins_b"]) == (1, 1)
