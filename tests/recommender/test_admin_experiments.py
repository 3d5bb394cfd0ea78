"""The experiment admin: start and stop through its actions."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dragonrec.recommender.models import Experiment
from dragonrec.recommender.services import experiments as svc

pytestmark = pytest.mark.django_db


def test_start_and_stop_actions_move_an_experiment_through_its_lifecycle(admin_client) -> None:  # type: ignore[no-untyped-def]
    experiment = svc.experiment_create(
        name="adm",
        scenarios=["home"],
        arms=[svc.ArmSpec("control", "trending", 0.5), svc.ArmSpec("t", "embedding", 0.5)],
    )
    url = "/admin/dragonrec_recommender/experiment/"
    assert admin_client.get(f"{url}{experiment.pk}/change/").status_code == 200
    admin_client.post(url, {"action": "start", "_selected_action": [experiment.pk]})
    assert Experiment.objects.get(pk=experiment.pk).status == "running"
    admin_client.post(url, {"action": "stop", "_selected_action": [experiment.pk]})
    stopped = Experiment.objects.get(pk=experiment.pk)
    assert stopped.status == "stopped" and "stopped by admin user" in stopped.notes
    svc.experiments_reset()


def test_promote_stops_with_the_winner_and_activates_its_student_version(admin_client, tiny_shop) -> None:  # type: ignore[no-untyped-def]
    from dragonrec.recommender.models import ModelVersion
    from tests.recommender.services.test_experiments import _log

    ModelVersion.objects.create(version="v-win", artifact="models/v-win", status="candidate")
    experiment = svc.experiment_create(
        name="prom",
        scenarios=["home"],
        arms=[svc.ArmSpec("control", "trending", 0.5), svc.ArmSpec("t", "student:v-win", 0.5)],
    )
    svc.experiment_start(experiment=experiment)
    p = [tiny_shop[k].id for k in ("monitor", "kettle", "pan", "mouse")]
    for k in range(30):
        _log("prom", "control", f"c{k}", p, {1} if k % 10 == 0 else set())
        _log("prom", "t", f"t{k}", p, {1, 2})
    admin_client.post(
        "/admin/dragonrec_recommender/experiment/", {"action": "promote_winner", "_selected_action": [experiment.pk]}
    )
    ended = Experiment.objects.get(pk=experiment.pk)
    assert (ended.status, ended.winner) == ("stopped", "t")
    version = ModelVersion.objects.get(version="v-win")
    assert version.status == "active" and "won experiment prom" in version.notes
    svc.experiments_reset()


def test_results_page_and_dashboard_render_with_and_without_data(admin_client, tiny_shop) -> None:  # type: ignore[no-untyped-def]
    from django.utils import timezone

    from dragonrec.recommender.models import ExperimentResult
    from tests.recommender.services.test_experiments import _log

    base = "/admin/dragonrec_recommender/experiment/"
    assert "No lists served in this window" in admin_client.get(f"{base}dashboard/").content.decode()
    experiment = svc.experiment_create(
        name="pg",
        scenarios=["home"],
        arms=[svc.ArmSpec("control", "trending", 0.5), svc.ArmSpec("t", "embedding", 0.5)],
    )
    assert "No data yet." in admin_client.get(f"{base}{experiment.pk}/results/").content.decode()
    _log("pg", "control", "c1", [tiny_shop["monitor"].id], {1})
    # read a minute later: the page reuses aggregates updated within svc.FRESH
    ExperimentResult.objects.filter(experiment=experiment).update(aggregated_at=timezone.now() - svc.FRESH)
    page = admin_client.get(f"{base}{experiment.pk}/results/").content.decode()
    assert "Not enough data yet: 1 items shown" in page and "<svg" in page
    assert "<svg" in admin_client.get(f"{base}dashboard/").content.decode()


def test_admin_index_leads_to_the_dashboard_and_from_there_and_the_list_to_each_experiments_results(
    admin_client, tiny_shop
) -> None:  # type: ignore[no-untyped-def]
    experiment = svc.experiment_create(
        name="linked",
        scenarios=["home"],
        arms=[svc.ArmSpec("control", "trending", 0.5), svc.ArmSpec("t", "embedding", 0.5)],
    )
    index = admin_client.get("/admin/").content.decode()
    assert "Recommendations dashboard" in index and "/admin/dragonrec_recommender/dashboard/" in index
    entry = admin_client.get("/admin/dragonrec_recommender/dashboard/")
    assert entry.status_code == 302 and entry["Location"] == "/admin/dragonrec_recommender/experiment/dashboard/"
    results = f"/admin/dragonrec_recommender/experiment/{experiment.pk}/results/"
    assert results not in admin_client.get(entry["Location"]).content.decode()  # a draft has no results yet
    svc.experiment_start(experiment=experiment)
    assert results in admin_client.get(entry["Location"]).content.decode()
    assert results in admin_client.get("/admin/dragonrec_recommender/experiment/").content.decode()
    svc.experiments_reset()


def test_interleaving_results_page_shows_the_win_rate_and_each_lists_credits(admin_client, tiny_shop) -> None:  # type: ignore[no-untyped-def]
    import uuid

    from django.utils import timezone

    from dragonrec.recommender.models import Experiment, ExperimentResult
    from dragonrec.recommender.services.impressions import impression_record_build, impressions_write
    from tests.served_lists import served_outcomes

    experiment = svc.experiment_create(
        name="mixpage",
        scenarios=["home"],
        arms=[svc.ArmSpec("emb", "embedding", 0.5), svc.ArmSpec("trend", "trending", 0.5)],
        kind=Experiment.Kind.INTERLEAVING,
    )
    svc.experiment_start(experiment=experiment)
    url = f"/admin/dragonrec_recommender/experiment/{experiment.pk}/results/"
    assert "No clicked lists yet." in admin_client.get(url).content.decode()
    # the page reuses aggregates updated within a minute: the lists below are read as served a minute later
    ExperimentResult.objects.filter(experiment=experiment).update(aggregated_at=timezone.now() - svc.FRESH)
    p = [tiny_shop[k].id for k in ("monitor", "kettle", "pan", "mouse")]
    # 12 lists: in 9 the shopper clicks trend's first pick (position 2), in 3 emb's (position 1)
    for k in range(12):
        request_id = uuid.uuid4()
        impressions_write([impression_record_build(
            request_id=request_id, user_id=None, session_id=f"s{k}", scenario="home", anchor_ids=[], ranker="x",
            model_version="", context={}, items=[(pid, pos, 1.0, "x", 1.0) for pos, pid in enumerate(p, 1)],
            policy={"teams": ["emb", "trend", "trend", "emb"]}, experiment="mixpage", arm="interleaved",
        )])  # fmt: skip
        served_outcomes(request_id, 2 if k < 9 else 1, clicked_at=datetime(2026, 11, 30, 10, 0, tzinfo=UTC))
    # the last list's clicked item was bought too: marked, and counted as one more credit
    served_outcomes(request_id, 1, purchased_at=datetime(2026, 11, 30, 10, 5, tzinfo=UTC))
    page = admin_client.get(url).content.decode()
    assert "12 interleaved lists: emb won 3, trend won 9, 0 tied or had no click." in page
    assert "<strong>emb*</strong>$" in page and "<td>2</td><td>0</td><td>emb</td>" in page
    assert "Win rate of trend among decided lists: 75.0%" in page
    assert "over 12 shoppers, each shopper's lists counted together" in page
    assert "<strong>trend*</strong>" in page and "<strong>emb*</strong>" in page
    svc.experiments_reset()


def test_promoting_without_a_significant_winner_says_so_and_keeps_the_experiment_running(
    admin_client, tiny_shop
) -> None:  # type: ignore[no-untyped-def]
    from dragonrec.recommender.models import Experiment

    experiment = svc.experiment_create(
        name="tied",
        scenarios=["home"],
        arms=[svc.ArmSpec("control", "trending", 0.5), svc.ArmSpec("t", "embedding", 0.5)],
    )
    svc.experiment_start(experiment=experiment)
    response = admin_client.post(
        "/admin/dragonrec_recommender/experiment/",
        {"action": "promote_winner", "_selected_action": [experiment.pk]},
        follow=True,
    )
    assert [str(m) for m in response.context["messages"]] == ["tied: no arm beats the control significantly on CTR"]
    assert Experiment.objects.get(pk=experiment.pk).status == "running"
    svc.experiments_reset()


def _add_form(name: str, arms: list[tuple[str, str, str]], scenarios: tuple[str, ...] = ("home",)) -> dict:  # type: ignore[type-arg]
    data = {
        "name": name,
        "kind": "ab",
        "scenarios": list(scenarios),
        "salt": "s",
        "notes": "",
        "arms-TOTAL_FORMS": str(len(arms)),
        "arms-INITIAL_FORMS": "0",
        "arms-MIN_NUM_FORMS": "0",
        "arms-MAX_NUM_FORMS": "1000",
    }
    for i, (arm, policy, share) in enumerate(arms):
        data |= {f"arms-{i}-name": arm, f"arms-{i}-policy": policy, f"arms-{i}-share": share,
                 f"arms-{i}-overrides": "{}", f"arms-{i}-position": str(i)}  # fmt: skip
    return data


def test_the_admin_refuses_a_policy_typo_and_percentage_shares_with_field_errors(admin_client) -> None:  # type: ignore[no-untyped-def]
    url = "/admin/dragonrec_recommender/experiment/add/"
    # the policy is a select of the closed list, not free text
    form = admin_client.get(url).content.decode()
    assert '<select name="arms-__prefix__-policy"' in form and 'value="trending"' in form
    response = admin_client.post(url, _add_form("typo", [("control", "student:active", "50"), ("t", "trendng", "50")]))
    assert response.status_code == 200  # the form again, nothing saved
    assert not Experiment.objects.filter(name="typo").exists()
    formset = response.context["inline_admin_formsets"][0].formset
    assert "trendng is not one of the available choices" in str(formset.forms[1].errors["policy"])
    for arm in formset.forms:
        assert "50 looks like a percentage: 0.5 is 50%" in str(arm.errors["share"])
    # fixed: saved as a draft
    response = admin_client.post(
        url, _add_form("typo", [("control", "student:active", "0.5"), ("t", "trending", "0.5")])
    )
    assert response.status_code == 302
    assert [a.policy for a in Experiment.objects.get(name="typo").arms.all()] == ["student:active", "trending"]


def test_the_admin_refuses_shares_that_do_not_add_up_and_a_scenario_taken_by_a_running_experiment(
    admin_client,
) -> None:  # type: ignore[no-untyped-def]
    url = "/admin/dragonrec_recommender/experiment/add/"
    response = admin_client.post(url, _add_form("short", [("control", "trending", "0.5"), ("t", "embedding", "0.3")]))
    errors = str(response.context["inline_admin_formsets"][0].formset.non_form_errors())
    assert "add up to 0.80 (80%), not 1" in errors
    running = svc.experiment_create(
        name="busy", scenarios=["home"], arms=[svc.ArmSpec("a", "trending", 0.5), svc.ArmSpec("b", "embedding", 0.5)]
    )
    svc.experiment_start(experiment=running)
    response = admin_client.post(
        url, _add_form("clash", [("control", "trending", "0.5"), ("t", "embedding", "0.5")], ("home", "cart"))
    )
    assert "busy is already running on home" in str(response.context["adminform"].form.errors["scenarios"])
    assert not Experiment.objects.filter(name="clash").exists()
    svc.experiments_reset()


def test_results_of_a_just_started_experiment_say_not_enough_data_per_arm(admin_client, capsys) -> None:  # type: ignore[no-untyped-def]
    from django.core.management import call_command

    experiment = svc.experiment_create(
        name="fresh",
        scenarios=["home"],
        arms=[svc.ArmSpec("control", "trending", 0.5), svc.ArmSpec("t", "embedding", 0.5)],
    )
    svc.experiment_start(experiment=experiment)
    call_command("recommender_experiment", "results", "fresh")  # returns: exit status 0
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if line.startswith(("control", "t "))]
    assert len(lines) == 2 and all("not enough data yet: 0 items shown of ~" in line for line in lines)
    assert "to detect a +10% CTR lift" in out and "not enough shoppers yet to judge the split" in out
    call_command("recommender_experiment", "results", "fresh", "--lift", "20")
    assert "to detect a +20% CTR lift" in capsys.readouterr().out
    page = admin_client.get(f"/admin/dragonrec_recommender/experiment/{experiment.pk}/results/").content.decode()
    assert "passed" not in page and "not judged yet" in page
    assert page.count("Not enough data yet: 0 items shown") == 2
    page = admin_client.get(f"/admin/dragonrec_recommender/experiment/{experiment.pk}/results/?lift=20").content
    assert page.decode().count("to detect a +20% CTR lift") == 2
    svc.experiments_reset()
