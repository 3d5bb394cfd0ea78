"""Template tags of the admin pages: the admin index's warning about overdue scheduled jobs."""

from __future__ import annotations

import logging
from typing import Any

from django import template

logger = logging.getLogger(__name__)
register = template.Library()


@register.inclusion_tag("admin/dragonrec_recommender/jobs_warning.html", takes_context=True)
def dragonrec_jobs_warning(context: dict[str, Any]) -> dict[str, Any]:
    """The overdue scheduled jobs, for whoever may see job health (nothing for the others)."""
    from dragonrec.recommender.services.jobs import jobs_overdue

    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.has_perm("dragonrec_recommender.view_jobrun"):
        return {"overdue": []}
    try:
        overdue = jobs_overdue()
    except Exception:  # the admin index must render even if the beat tables are missing (migrate not run)
        logger.exception("could not read job health")
        overdue = []
    return {"overdue": overdue}
