"""Query-parameter serializers for GET APIs."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers


class QueryParamsSerializer(serializers.Serializer):
    """A serializer for `request.query_params` where a parameter given empty (`?n=`) is an error, not its default.

    DRF reads an empty form value of an optional field as "not given" and fills in the default, so `?scenario=`
    silently meant `home`; the schema promises an enum, and a client that sends an empty value has a bug worth
    reporting. Text fields that allow blank keep accepting it."""

    def to_internal_value(self, data: Any) -> Any:
        errors = {
            name: ["This parameter may not be empty; leave it out for its default."]
            for name, field in self.fields.items()
            if data.get(name) == "" and not getattr(field, "allow_blank", False)
        }
        if errors:
            raise serializers.ValidationError(errors)
        return super().to_internal_value(data)
