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
