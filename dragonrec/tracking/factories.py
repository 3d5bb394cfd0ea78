"""factory_boy factories for tracking data; host projects may import them in their own tests."""

from __future__ import annotations

import uuid

import factory
from django.utils import timezone

from dragonrec.tracking.models import Event


class EventFactory(factory.django.DjangoModelFactory[Event]):
    class Meta:
        model = Event

    id = factory.LazyFunction(uuid.uuid4)
    type = "view"
    session_id = factory.Sequence(lambda n: f"s-{n}")
    user = None
    timestamp = factory.LazyFunction(timezone.now)
