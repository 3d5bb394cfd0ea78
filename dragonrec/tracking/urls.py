from django.urls import path

from dragonrec.tracking.apis import EventCreateApi, PreferenceApi, SessionMergeApi

urlpatterns = [
    path("events/", EventCreateApi.as_view(), name="event-create"),
    path("preferences/", PreferenceApi.as_view(), name="preferences"),
    path("sessions/merge/", SessionMergeApi.as_view(), name="session-merge"),
]
