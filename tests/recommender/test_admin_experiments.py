"""The experiment admin: start and stop through its actions."""

from __future__ import annotations

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
    page = admin_client.get(f"{base}{experiment.pk}/results/").content.decode()
    assert "100.00%" in page and "<svg" in page
    assert "<svg" in admin_client.get(f"{base}dashboard/").content.decode()
