"""Signals tracking emits. Receivers must be quick: they run inside the request that recorded the events.

events_recorded(sender, events: list[Event], source: str)
    Sent after new events are committed (duplicates are not included). `source` is "api" or "import".
    The recommender listens to update profiles and attribute clicks to impressions.

session_merged(sender, user, session_id: str, count: int)
    Sent after an anonymous session's events were attached to a user who logged in.
"""

from django.dispatch import Signal

events_recorded = Signal()
session_merged = Signal()
