"""Read-only figures and plots for the admin: an experiment's results page and the Recommendations dashboard.

    >>> experiment_page(experiment=exp)["arms"][0]["ctr"]   # {"value", "low", "high"} formatted for the table
    >>> recommendations_dashboard()["plots"]["ctr"]         # an inline <svg> string

Along its seams: `selectors` (the queries, bounded in time and aggregated in SQL), `plots` (inline SVG rendering) and
`pages` (what the templates read).
"""

from __future__ import annotations

from dragonrec.recommender.services.dashboard.pages import DAYS, experiment_page, recommendations_dashboard
from dragonrec.recommender.services.dashboard.selectors import COVERAGE_DAYS, catalog_coverage, ranker_name

__all__ = ["COVERAGE_DAYS", "DAYS", "catalog_coverage", "experiment_page", "ranker_name", "recommendations_dashboard"]
