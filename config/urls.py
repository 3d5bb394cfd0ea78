from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from config.api_docs import ApiDocsView
from dragonrec.recommender.metrics import metrics_view

urlpatterns = [
    path("admin/", admin.site.urls),
    path("metrics", metrics_view, name="metrics"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", ApiDocsView.as_view(url_name="schema"), name="api-docs"),
    path("api/", include("dragonrec.catalog.urls")),
    path("api/", include("dragonrec.tracking.urls")),
    path("api/", include("dragonrec.recommender.urls")),
    path("", include("config.home_urls")),
]

handler404 = "config.api.page_not_found"
handler500 = "config.api.server_error"
