"""Writes of tracking data, by seam: `events` (ingest through the API), `imports` (the CSV import), `shoppers`
(session merge at sign-in, sign-out, preferences, erasure) and `api_keys`. Import from here; the names below are the
package's interface."""

from __future__ import annotations

from dragonrec.tracking.services.api_keys import (
    API_KEY_PREFIX,
    LAST_USED_RESOLUTION,
    api_key_authenticate,
    api_key_create,
    api_key_revoke,
)
from dragonrec.tracking.services.events import (
    ACCEPTED,
    DUPLICATE,
    MAX_BATCH,
    REJECTED,
    EventBudget,
    EventInput,
    EventLimitExceeded,
    EventResult,
    Lane,
    events_record,
    events_record_well_formed,
    product_model,
)
from dragonrec.tracking.services.imports import (
    IMPORT_BATCH,
    IMPORT_NAMESPACE,
    EventImportReport,
    ImportRowError,
    tracking_import,
)
from dragonrec.tracking.services.shoppers import (
    TrackingErasure,
    preference_merge_into_user,
    preference_update,
    session_merge_into_user,
    shopper_sign_in,
    shopper_sign_out,
    shopper_tracking_erase,
)

__all__ = [
    "ACCEPTED",
    "API_KEY_PREFIX",
    "DUPLICATE",
    "IMPORT_BATCH",
    "IMPORT_NAMESPACE",
    "LAST_USED_RESOLUTION",
    "MAX_BATCH",
    "REJECTED",
    "EventBudget",
    "EventImportReport",
    "EventInput",
    "EventLimitExceeded",
    "EventResult",
    "ImportRowError",
    "Lane",
    "TrackingErasure",
    "api_key_authenticate",
    "api_key_create",
    "api_key_revoke",
    "events_record",
    "events_record_well_formed",
    "preference_merge_into_user",
    "preference_update",
    "product_model",
    "session_merge_into_user",
    "shopper_sign_in",
    "shopper_sign_out",
    "shopper_tracking_erase",
    "tracking_import",
]
