"""DragonRec's admin, one module per area: `data` (what the recommender records and computes), `versions` (model
versions), `forms` and `experiments` (experiments, preview, dashboard), `reports` (read-only report pages)."""

from __future__ import annotations

from django.contrib import admin

from dragonrec.recommender.admin import data, experiments, reports, versions

__all__ = ["data", "experiments", "reports", "versions"]


# the admin index warns when a scheduled job is overdue; a host project's own index template is left alone
if admin.site.index_template is None:
    admin.site.index_template = "admin/dragonrec_recommender/index.html"
