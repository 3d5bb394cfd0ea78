"""Query-parameter serializers and pagination for GET APIs."""

from __future__ import annotations

import copy
from typing import Any

from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request


class QueryParamsSerializer(serializers.Serializer[Any]):
    """A serializer for `request.query_params` where a parameter given empty (`?n=`) is an error, not its default.

    DRF reads an empty form value of an optional field as "not given" and fills in the default, so `?scenario=`
    silently meant `home`; the schema promises an enum, and a client that sends an empty value has a bug worth
    reporting. Text fields that allow blank keep accepting it."""

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        """The declared fields, copied shallowly: DRF deep-copies each one (re-running its constructor) for every
        instance, a third of a millisecond per request on the list endpoints (issue #27). Query-parameter fields
        are flat and keep no per-request state beyond what binding sets on the copy."""
        return {name: copy.copy(field) for name, field in self._declared_fields.items()}

    def to_internal_value(self, data: Any) -> Any:
        errors = {
            name: ["This parameter may not be empty; leave it out for its default."]
            for name, field in self.fields.items()
            if data.get(name) == "" and not getattr(field, "allow_blank", False)
        }
        if errors:
            raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


class StrictPageNumberPagination(PageNumberPagination):
    """DRF's page numbers, where `?page=` (empty) is a 400 like every other empty parameter: DRF served page 1,
    so a client with a bug in its pager never learned of it, and the schema promises an integer. `page_size` (1 to
    100) is honoured; DRF ignores one it cannot read, so a bad one is a 400 here too."""

    page_size_query_param = "page_size"
    max_page_size = 100

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> list[Any] | None:
        if request.query_params.get(self.page_query_param) == "":
            raise serializers.ValidationError(
                {self.page_query_param: ["This parameter may not be empty; leave it out for the first page."]}
            )
        size = request.query_params.get(self.page_size_query_param)
        if size is not None and not (size.isascii() and size.isdigit() and 1 <= int(size) <= self.max_page_size):
            raise serializers.ValidationError(
                {self.page_size_query_param: [f"Expected a whole number from 1 to {self.max_page_size}."]}
            )
        return super().paginate_queryset(queryset, request, view)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        """The schema says what the check above enforces: `page_size` from 1 to `max_page_size`."""
        parameters: list[dict[str, Any]] = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter.get("name") == self.page_size_query_param:
                parameter["schema"] = {**parameter.get("schema", {}), "minimum": 1, "maximum": self.max_page_size}
        return parameters
