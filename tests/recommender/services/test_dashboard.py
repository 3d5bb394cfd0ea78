"""The admin's figures: the Recommendations dashboard and an experiment's page, with data and with none."""

from __future__ import annotations

import pytest

from dragonrec.recommender.services import dashboard
from dragonrec.recommender.services import experiments as svc

pytestmark = pytest.mark.django_db


def test_the_dashboard_with_no_data_has_no_plots_and_zero_coverage() -> None:
    figures = dashboard.recommendations_dashboard()
    assert figures["rankers"] == [] and figures["plots"] == {}
    assert figures["coverage"]["share"] == 0.0


def test_an_experiment_page_shows_each_arm_and_an_inline_svg_plot(tiny_shop) -> None:  # type: ignore[no-untyped-def]
    from tests.recommender.services.test_experiments import _log

    experiment = svc.experiment_create(
        name="page",
        scenarios=["home"],
        arms=[svc.ArmSpec("control", "trending", 0.5), svc.ArmSpec("t", "embedding", 0.5)],
    )
    p = [tiny_shop[k].id for k in ("monitor", "kettle")]
    _log("page", "control", "c1", p, {1})
    _log("page", "t", "t1", p, set())
    page = dashboard.experiment_page(experiment=experiment)
    assert [a["name"] for a in page["arms"]] == ["control", "t"]
    assert page["arms"][0]["metrics"][0]["value"] == "50.00%"
    assert page["plot"].startswith("<svg")
    figures = dashboard.recommendations_dashboard()
    assert figures["rankers"][0]["lists"] == 2 and figures["plots"]["served"].startswith("<svg")
    assert figures["coverage"]["shown"] == 2
