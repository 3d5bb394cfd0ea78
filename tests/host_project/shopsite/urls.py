from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    # --- DragonRec
    path("api/", include("dragonrec.tracking.urls")),
    path("api/", include("dragonrec.recommender.urls")),
]
