from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from dragonrec.api_params import QueryParamsSerializer
from dragonrec.recommender.conf import recommender_settings
from dragonrec.recommender.core.types import SCENARIOS
from dragonrec.recommender.selectors import products_rendered
from dragonrec.recommender.services.recommendations import (
    RecommendationError,
    UnknownProductError,
    complementary_products,
    recommendation_list,
    similar_products,
)


def _n_field() -> serializers.IntegerField:
    return serializers.IntegerField(required=False, min_value=1, max_value=100, default=10)


class ItemSerializer(serializers.Serializer):
    product = serializers.DictField(help_text="The product, as RECOMMENDER['PRODUCT_SERIALIZER'] renders it.")
    score = serializers.FloatField()
    reason = serializers.CharField()
    source = serializers.CharField()


def _items(rows: list[Any]) -> list[dict[str, Any]]:
    products = products_rendered([r.product_id for r in rows])
    return [
        {"product": products[r.product_id], "score": r.score, "reason": getattr(r, "reason", ""), "source": r.source}
        for r in rows
        if r.product_id in products
    ]


class RecommendationListApi(APIView):
    """Recommendations for the signed-in user, else for `session_id`; `ranker` says what ordered the list
    (`teacher`, `student:<version>`, `embedding`, or `trending` for a visitor we know nothing about)."""

    throttle_scope = "recommendations"

    class InputSerializer(QueryParamsSerializer):
        scenario = serializers.ChoiceField(choices=SCENARIOS, default="home")
        product_id = serializers.IntegerField(required=False, min_value=1)
        session_id = serializers.CharField(required=False, max_length=128, allow_blank=True, default="")
        n = _n_field()

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            if attrs["scenario"] == "product" and not attrs.get("product_id"):
                raise serializers.ValidationError({"product_id": "required for scenario=product"})
            if attrs["n"] > recommender_settings.MAX_N:
                raise serializers.ValidationError({"n": f"at most {recommender_settings.MAX_N}"})
            return attrs

    class OutputSerializer(serializers.Serializer):
        request_id = serializers.UUIDField()
        scenario = serializers.CharField()
        ranker = serializers.CharField()
        items = ItemSerializer(many=True)

    @extend_schema(parameters=[InputSerializer], responses=OutputSerializer)
    def get(self, request: Request) -> Response:
        params = self.InputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        try:
            served = recommendation_list(
                scenario=data["scenario"],
                user=request.user,
                session_id=data["session_id"],
                product_id=data.get("product_id"),
                n=data["n"],
            )
        except UnknownProductError as exc:
            raise NotFound(str(exc)) from exc
        except RecommendationError as exc:
            raise ValidationError({"product_id": str(exc)}) from exc
        return Response(
            {
                "request_id": served.request_id,
                "scenario": served.scenario,
                "ranker": served.ranker,
                "items": _items(served.items),
            }
        )


class _ProductListApi(APIView):
    """GET /api/products/{id}/<list>/?n= : one service call, the same output shape as recommendations' items."""

    throttle_scope = "recommendations"

    class InputSerializer(QueryParamsSerializer):
        n = _n_field()

    @staticmethod
    def fetch(*, product_id: int, n: int) -> list[Any]:
        raise NotImplementedError

    @extend_schema(
        parameters=[InputSerializer],
        responses=inline_serializer("ProductListItems", {"items": ItemSerializer(many=True)}),
    )
    def get(self, request: Request, product_id: int) -> Response:
        params = self.InputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        try:
            rows = self.fetch(product_id=product_id, n=params.validated_data["n"])
        except UnknownProductError as exc:
            raise NotFound(str(exc)) from exc
        except RecommendationError as exc:
            raise ValidationError({"product_id": str(exc)}) from exc
        return Response({"items": _items(rows)})


class ProductSimilarApi(_ProductListApi):
    """Content-similar products (nearest neighbours of the product's text embedding)."""

    fetch = staticmethod(similar_products)


class ProductComplementsApi(_ProductListApi):
    """Products that go well with this one (learned from what shoppers buy together, by category first)."""

    fetch = staticmethod(complementary_products)
