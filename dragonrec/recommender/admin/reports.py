"""Admin entries that are report pages, not tables to edit: the dashboard and job health."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse

from dragonrec.recommender.models import (
    Dashboard,
    JobRun,
)


class ReadOnlyAdminMixin:
    """An admin entry that shows a page and never adds, changes or deletes a row (its rows, if any, are written by
    the code that owns them: Celery's task signals for job runs)."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Dashboard)
class DashboardAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The admin index's entry for the dashboard, which lives under the experiments' URLs; whoever may see
    experiments may see it."""

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return request.user.has_perm("dragonrec_recommender.view_experiment")

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        return HttpResponseRedirect(reverse("admin:dragonrec_dashboard"))


@admin.register(JobRun)
class JobRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Job health: every job of the beat schedule (those that never ran too) with its last success, last failure
    and its error, duration and next run. Rows are written by Celery's task signals only."""

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        from django.conf import settings
        from django.core.exceptions import PermissionDenied

        from dragonrec.recommender.conf import recommender_settings
        from dragonrec.recommender.services.jobs import job_health

        if not self.has_view_permission(request):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": "Scheduled jobs",
            "jobs": job_health(),
            "grace": recommender_settings.JOB_OVERDUE_GRACE_MINUTES,
            "tz": settings.TIME_ZONE,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/dragonrec_recommender/job_health.html", context)
