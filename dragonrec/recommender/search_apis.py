"""GET /api/search/ and /api/search/suggest/: the storefront's search box and results page (services/search.py).

Kept beside apis.py rather than in it: search has its own inputs and output shape, and reuses the item rendering."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from dragonrec.api_params import QueryParamsSerializer
from dragonrec.recommender.api_base import ShopperListApi, session_id_field
from dragonrec.recommender.apis import ItemSerializer, _items
from dragonrec.recommender.services.search import (
    MAX_PAGE_SIZE,
    SORTS,
    SearchError,
    search_products,
    search_suggest,
)
from dragonrec.textsearch import normalize

MAX_QUERY_CHARS = 200  # a search box; longer is a client bug or an attack on the tsquery


def _query_field() -> serializers.CharField:
    # Any text: a query without a letter or digit ("!!!") simply finds nothing (and gets recommendations instead).
    return serializers.CharField(
        max_length=MAX_QUERY_CHARS, trim_whitespace=False, help_text="What the shopper typed (any script)."
    )


def _printable(value: str) -> str:
    # control characters (a NUL cannot even be sent to PostgreSQL) separate words like spaces
    return normalize(value) if any(ord(ch) < 32 or 0xD800 <= ord(ch) <= 0xDFFF for ch in value) else value


class SearchRecommendationsSerializer(serializers.Serializer[Any]):
    request_id = serializers.UUIDField()
    ranker = serializers.CharField()
    items = ItemSerializer(many=True)


class SearchSuggestionSerializer(serializers.Serializer[Any]):
    text = serializers.CharField()
    kind = serializers.ChoiceField(choices=["query", "category", "product"])
    product_id = serializers.IntegerField(allow_null=True)


class SearchApi(ShopperListApi):
    """Ranked product search for the browser's shopper (or an API key's `session_id`): full-text relevance with
    typo correction, semantic recall, and personal re-ranking of the top hits. Recorded as a served list: report clicks
    on results with this `request_id` and the item's `position`. Zero results answer with a `corrected_query` to offer
    and `recommendations` to show instead."""

    class InputSerializer(QueryParamsSerializer):
        q = _query_field()
        page = serializers.IntegerField(required=False, min_value=1, max_value=1000, default=1)
        page_size = serializers.IntegerField(required=False, min_value=1, max_value=MAX_PAGE_SIZE, default=20)
        sort = serializers.ChoiceField(choices=SORTS, default="relevance")
        # not trimmed by DRF (white space alone would then be a 400 the schema can't describe): validate_category
        # strips it, and a category of white space filters nothing
        category = serializers.CharField(
            required=False,
            max_length=1000,
            default="",
            trim_whitespace=False,
            help_text="A category path prefix ('Electronics > Monitors').",
        )
        session_id = session_id_field()

        def validate_q(self, value: str) -> str:
            return _printable(value)

        def validate_category(self, value: str) -> str:
            return "".join(ch for ch in value if ord(ch) >= 32 and not 0xD800 <= ord(ch) <= 0xDFFF).strip()

    @extend_schema_serializer(component_name="SearchResults")  # one "Output" component per API would collide
    class OutputSerializer(serializers.Serializer[Any]):
        request_id = serializers.UUIDField(help_text="the served list's id: send it with clicks on these results")
        query = serializers.CharField()
        corrected_query = serializers.CharField(
            allow_null=True, help_text="'did you mean': the query with its typos corrected, or null"
        )
        count = serializers.IntegerField(help_text="matching products over all pages")
        page = serializers.IntegerField()
        page_size = serializers.IntegerField()
        sort = serializers.CharField()
        ranker = serializers.CharField(help_text="'search', or 'search+<ranker>' when personalised")
        personalised = serializers.BooleanField()
        experiment = serializers.CharField(allow_null=True)
        arm = serializers.CharField(allow_null=True)
        items = ItemSerializer(many=True)
        recommendations = SearchRecommendationsSerializer(
            allow_null=True, help_text="zero results only: the shopper's recommendations to show instead"
        )

    @extend_schema(parameters=[InputSerializer], responses=OutputSerializer)
    def get(self, request: Request) -> Response:
        data = self.query_params(request)
        shopper = self.shopper(request, session_id=data["session_id"])
        try:
            result = search_products(
                query=data["q"],
                user=shopper.user,
                session_id=shopper.session_id,
                page=data["page"],
                page_size=data["page_size"],
                sort=data["sort"],
                category=data["category"],
                record=self.may_record(request),  # a cross-site navigation is served, never recorded
            )
        except SearchError as exc:
            raise ValidationError({"q": str(exc)}) from exc
        recommendations: dict[str, Any] | None = None
        if result.recommendations is not None:
            served = result.recommendations
            recommendations = {
                "request_id": str(served.request_id),
                "ranker": served.ranker,
                "items": _items(served.items),
            }
        return Response(
            {
                "request_id": result.request_id,
                "query": result.query,
                "corrected_query": result.corrected_query,
                "count": result.count,
                "page": result.page,
                "page_size": result.page_size,
                "sort": result.sort,
                "ranker": result.ranker,
                "personalised": result.personalised,
                "experiment": result.experiment,
                "arm": result.arm,
                "items": _items(result.items),
                "recommendations": recommendations,
            }
        )


class SearchSuggestApi(ShopperListApi):
    """Autocomplete for the search box: completed queries, categories and product titles for what was typed so far,
    and its typo correction. Not personal and not recorded."""

    class InputSerializer(QueryParamsSerializer):
        q = _query_field()
        n = serializers.IntegerField(required=False, min_value=1, max_value=20, default=8)

        def validate_q(self, value: str) -> str:
            return _printable(value)

    @extend_schema_serializer(component_name="SearchSuggestions")
    class OutputSerializer(serializers.Serializer[Any]):
        query = serializers.CharField()
        corrected_query = serializers.CharField(allow_null=True)
        suggestions = SearchSuggestionSerializer(many=True)

    @extend_schema(parameters=[InputSerializer], responses=OutputSerializer)
    def get(self, request: Request) -> Response:
        data = self.query_params(request)
        self.shopper(request)
        suggestions, corrected = search_suggest(query=data["q"], limit=data["n"])
        return Response(
            {
                "query": data["q"],
                "corrected_query": corrected,
                "suggestions": [SearchSuggestionSerializer(s).data for s in suggestions],
            }
        )
