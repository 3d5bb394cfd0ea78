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
    assert "<svg" in page["plot"]
    figures = dashboard.recommendations_dashboard()
    assert figures["rankers"][0]["lists"] == 2 and "<svg" in figures["plots"]["served"]
    assert figures["coverage"]["shown"] == 2


def test_the_dashboard_reads_at_a_glance_names_days_currency_and_the_teacher_off(admin_client, tiny_shop) -> None:  # type: ignore[no-untyped-def]
    import re
    from datetime import timedelta

    from django.test import override_settings
    from django.utils import timezone

    from tests.served_lists import stored_list

    # given: lists served two days ago and today by the personal model v1 and by trending
    today = timezone.now().replace(hour=12, minute=0)
    for when, ranker, version in ((today - timedelta(days=2), "student:v1", "v1"), (today, "trending", "")):
        item = (tiny_shop["monitor"].pk, 1.0, "trending", 1.0)
        stored_list([item], session_id="s", ranker=ranker, model_version=version, age=timezone.now() - when)
    with override_settings(RECOMMENDER={"CURRENCY": "EUR"}):
        page = admin_client.get("/admin/dragonrec_recommender/experiment/dashboard/").content.decode()
    # then: owner-facing names, the currency beside revenue, the teacher's empty state with what to set
    assert '<td title="student:v1">Personal model v1</td>' in page and '<td title="trending">Trending</td>' in page
    assert "v1 v1" not in page and "0.00 EUR" in page and "revenue attributed (EUR)" in page
    assert "No LLM configured: the teacher is off." in page and "OPENAI_BASE_URL" in page
    # the served plot's date axis labels exactly the data's three days, and no axis goes negative
    plot = page.split("What ranked the lists", 1)[1].split("<h2>", 1)[0]
    days = [(today - timedelta(days=k)).strftime("%b %d") for k in (2, 1, 0)]
    labels = re.findall(r">([A-Z][a-z]{2} \d{2})<", plot)
    assert labels and set(labels) == set(days), labels
    assert not re.search(r">(20[0-9]{2})<", plot) and not re.search("\u2212\\d", plot)
