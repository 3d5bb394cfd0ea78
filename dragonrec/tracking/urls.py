from django.urls import path

from dragonrec.tracking.apis import EventCreateApi
from dragonrec.tracking.shopper_apis import AuthLoginApi, AuthLogoutApi, AuthSessionApi, PreferenceApi, SessionMergeApi

urlpatterns = [
    path("events/", EventCreateApi.as_view(), name="event-create"),
    path("preferences/", PreferenceApi.as_view(), name="preferences"),
    path("sessions/merge/", SessionMergeApi.as_view(), name="session-merge"),
    path("auth/session/", AuthSessionApi.as_view(), name="auth-session"),
    path("auth/login/", AuthLoginApi.as_view(), name="auth-login"),
    path("auth/logout/", AuthLogoutApi.as_view(), name="auth-logout"),
]
