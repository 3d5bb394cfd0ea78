"""What a shop owner sees in admin, in a real browser: an A/B experiment's results page and the Recommendations
dashboard, each with a week of data; saved as experiment-results.png and dashboard.png (docs/screenshots/ with
`make screenshots`, else the ignored var/screenshots/)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pytest

from tests.e2e.conftest import SCREENSHOTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DAYS = 7
LISTS_PER_ARM_DAY = 60
# per-item click probability of each arm (the treatment a third better) and P(purchase | click)
CLICK = {"control": 0.03, "treatment": 0.04}
BUY = 0.2


def a_week_of_experiment_traffic() -> Any:
    """A running A/B test with a week of lists, clicks and purchases, plus what else the dashboard shows."""
    from django.utils import timezone

    from dragonrec.catalog.factories import CategoryFactory, ProductFactory
    from dragonrec.recommender.models import ModelVersion, TeacherJudgment
    from dragonrec.recommender.services import experiments as svc
    from dragonrec.recommender.services.impressions import impression_record_build, impressions_write
    from dragonrec.tracking.factories import EventFactory
    from tests.served_lists import served_outcomes

    rng = np.random.default_rng(7)
    now = timezone.now()
    aisles = [CategoryFactory(name=name) for name in ("Coffee", "Kettles", "Monitors", "Keyboards")]
    products = [ProductFactory(category=aisles[k % 4], price=Decimal(10 + 5 * k)) for k in range(20)]
    by_id = {p.id: p for p in products}
    for k, (version, gate) in enumerate((("v1", 0.081), ("v2", 0.093), ("v3", 0.104))):
        row = ModelVersion.objects.create(
            version=version, artifact=f"models/{version}", status="active" if k == 2 else "archived",
            metrics={"gate_ndcg@10": gate, "valid_ndcg@10": gate + 0.01}, activated_at=now - timedelta(days=6 - 3 * k),
        )  # fmt: skip
        ModelVersion.objects.filter(pk=row.pk).update(created_at=now - timedelta(days=6 - 3 * k))
    experiment = svc.experiment_create(
        name="student-vs-trending",
        scenarios=["home"],
        arms=[svc.ArmSpec("control", "student:active", 0.5), svc.ArmSpec("treatment", "trending", 0.5)],
    )
    svc.experiment_start(experiment=experiment)
    for day in range(DAYS, 0, -1):
        served_at = now - timedelta(days=day, hours=-2)
        records = []
        for arm, ranker in (("control", "student"), ("treatment", "trending")):
            for k in range(LISTS_PER_ARM_DAY):
                shown = rng.choice(len(products), size=10, replace=False)
                records.append(
                    impression_record_build(
                        request_id=uuid.uuid4(),
                        user_id=None,
                        session_id=f"{arm}-{k % 40}",
                        scenario="home",
                        anchor_ids=[],
                        ranker=ranker,
                        model_version="v3" if ranker == "student" else "",
                        context={},
                        items=[(products[i].id, pos, 1.0, ranker, 1.0) for pos, i in enumerate(shown, 1)],
                        experiment=experiment.name,
                        arm=arm,
                    )
                )
        for record in records:
            record["created_at"] = served_at.isoformat()
        impressions_write(records)
        for record in records:
            for product_id, position, *_ in record["items"]:
                if rng.random() >= CLICK[record["arm"]]:
                    continue
                if rng.random() < BUY:
                    bought_at = served_at + timedelta(minutes=5)
                    EventFactory(type="purchase", product=by_id[product_id], session_id=record["session_id"],
                                 timestamp=bought_at, value=Decimal(25))  # fmt: skip
                    served_outcomes(record["request_id"], position, clicked_at=served_at, purchased_at=bought_at)
                else:
                    served_outcomes(record["request_id"], position, clicked_at=served_at)
        for k in range(int(rng.integers(20, 40))):
            judgment = TeacherJudgment.objects.create(
                prompt_version="v1",
                model="gpt-4o-mini",
                cache_key=f"{day}-{k}",
                latency_ms=int(rng.integers(400, 1500)),
                cost_usd=Decimal("0.0004"),
                error="timeout" if k % 17 == 0 else "",
            )
            TeacherJudgment.objects.filter(pk=judgment.pk).update(created_at=served_at)
    return experiment


def test_experiment_results_and_dashboard_screenshots(page: Any, live_server: Any, django_user_model: Any) -> None:
    experiment = a_week_of_experiment_traffic()
    django_user_model.objects.create_superuser("owner", "owner@example.com", "a-long-password")
    page.goto(f"{live_server.url}/admin/login/")
    page.get_by_label("Username").fill("owner")
    page.get_by_label("Password").fill("a-long-password")
    page.get_by_role("button", name="Log in").click()
    page.get_by_text("Recommendations dashboard").wait_for()

    page.goto(f"{live_server.url}/admin/dragonrec_recommender/experiment/{experiment.pk}/results/")
    page.get_by_role("heading", name="Lift over control").wait_for()
    assert page.get_by_text("Sample-ratio check").is_visible()
    # a week at this traffic shows each arm's figures, and says they are too few to detect a +10% lift
    assert page.get_by_text("Not enough data yet: 4,200 items shown of ~").count() == 2
    assert page.locator("svg").count() >= 1  # the daily plot, server-side
    page.screenshot(path=str(SCREENSHOTS / "experiment-results.png"), full_page=True)

    page.goto(f"{live_server.url}/admin/")
    page.get_by_role("link", name="Recommendations dashboard").click()
    page.get_by_role("heading", name="What ranked the lists").wait_for()
    assert page.get_by_role("cell", name="Personal model v3").first.is_visible()
    assert page.get_by_role("link", name="student-vs-trending").is_visible()
    page.screenshot(path=str(SCREENSHOTS / "dashboard.png"), full_page=True)


def _sign_in(page: Any, live_server: Any, django_user_model: Any) -> None:
    django_user_model.objects.create_superuser("owner", "owner@example.com", "a-long-password")
    page.goto(f"{live_server.url}/admin/login/")
    page.get_by_label("Username").fill("owner")
    page.get_by_label("Password").fill("a-long-password")
    page.get_by_role("button", name="Log in").click()
    page.get_by_text("Recommendations dashboard").wait_for()


def _page_width(page: Any) -> int:
    return int(page.evaluate("Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"))


def test_the_dashboard_fits_a_desktop_and_a_phone_and_its_date_axes_span_the_datas_days(
    page: Any, live_server: Any, django_user_model: Any
) -> None:
    from django.utils import timezone

    a_week_of_experiment_traffic()
    _sign_in(page, live_server, django_user_model)
    now = timezone.now()
    days = {(now - timedelta(days=d, hours=-2)).strftime("%b %d") for d in range(DAYS, 0, -1)}
    for width, height, shot in ((1280, 900, None), (390, 844, "dashboard-phone.png")):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"{live_server.url}/admin/dragonrec_recommender/experiment/dashboard/")
        page.get_by_role("heading", name="What ranked the lists").wait_for()
        assert _page_width(page) <= width, f"the dashboard is {_page_width(page)} px wide in a {width} px window"
        # the served plot's date axis: the week's days, nothing else (the text of the inline SVG's tick labels)
        served_plot = page.locator("svg.dragonrec-plot").first
        labels = {x.strip() for x in served_plot.locator("text").all_text_contents()}
        assert days & labels == days and not {x for x in labels if x.isdigit() and len(x) == 4}, labels
        assert page.get_by_text("No LLM configured: the teacher is off.").is_visible()
        if shot:
            page.screenshot(path=str(SCREENSHOTS / shot), full_page=True)


def test_model_version_preview_and_job_health_pages_screenshots(
    page: Any, live_server: Any, django_user_model: Any
) -> None:
    """The owner's other pages at 1280 px: a version's training curve and gate figures in words, the preview of a
    shopper's list with reasons, and the scheduled jobs with a failed run's error."""
    from dragonrec.recommender.models import ModelVersion
    from dragonrec.recommender.services.aggregates import trending_recompute
    from dragonrec.recommender.services.schedule import periodic_tasks_install
    from dragonrec.recommender.tasks import complements_recompute

    a_week_of_experiment_traffic()
    trending_recompute()
    periodic_tasks_install()
    complements_recompute.apply(args=["a wrong argument"])  # a failed run, as a broken job would leave it
    v3 = ModelVersion.objects.get(version="v3")
    v3.training_log = [
        {"epoch": e, "loss": round(9.0 * 0.8**e + 2, 4), "valid_ndcg10": round(0.11 * (1 - 0.7**e), 4)}
        for e in range(1, 13)
    ]
    v3.metrics |= {
        "gate_compared_with": "v2",
        "active_gate_ndcg@10": 0.093,
        "baselines": {"item_knn": 0.071, "popularity": 0.012},
        "gate_users": 412,
        "slices": [
            {"slice": "2-4 events", "shoppers": 190, "ndcg10": 0.082, "item_knn": 0.061, "popularity": 0.011},
            {"slice": "5-19 events", "shoppers": 201, "ndcg10": 0.121, "item_knn": 0.078, "popularity": 0.012},
            {"slice": "20+ events", "shoppers": 21, "ndcg10": 0.139, "item_knn": 0.097, "popularity": 0.016},
        ],
    }
    v3.save()
    _sign_in(page, live_server, django_user_model)

    page.goto(f"{live_server.url}/admin/dragonrec_recommender/modelversion/{v3.pk}/change/")
    assert page.get_by_text("NDCG@10 on 412 held-out shoppers 0.104, +12% over v2 (0.093)").is_visible()
    assert page.locator("svg.dragonrec-plot").count() == 1 and _page_width(page) <= 1280
    assert page.get_by_role("link", name="Delete").count() == 0  # the active version
    page.screenshot(path=str(SCREENSHOTS / "model-version.png"), full_page=True)

    page.goto(f"{live_server.url}/admin/dragonrec_recommender/experiment/preview/?scenario=home&shopper=control-1&n=8")
    page.get_by_role("heading", name="What the running experiment's arms would serve").wait_for()
    assert page.locator("#preview-list tbody tr").count() == 8 and _page_width(page) <= 1280
    page.screenshot(path=str(SCREENSHOTS / "preview.png"), full_page=True)

    page.goto(f"{live_server.url}/admin/dragonrec_recommender/jobrun/")
    assert page.get_by_text("takes 0 positional arguments but 1 was given").is_visible()
    assert page.locator("#job-health tbody tr").count() >= 8 and _page_width(page) <= 1280
    page.screenshot(path=str(SCREENSHOTS / "job-health.png"), full_page=True)
