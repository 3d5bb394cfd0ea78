from __future__ import annotations

from typing import Any

from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from dragonrec.api_params import QueryParamsSerializer
from dragonrec.recommender.api_base import ShopperListApi, session_id_field
from dragonrec.recommender.conf import recommender_settings
from dragonrec.recommender.core.types import SCENARIOS
from dragonrec.recommender.selectors import products_rendered
from dragonrec.recommender.services.privacy import shopper_data_erase, shopper_data_export
from dragonrec.recommender.services.recommendations import (
    RecommendationError,
    ServedList,
    UnknownProductError,
    recommendation_list,
)
from dragonrec.tracking.authentication import ApiKeyScopes
from dragonrec.tracking.identity import cookie_rotate
from dragonrec.tracking.shopper_views import ShopperMixin


def _n_field() -> serializers.IntegerField:
    return serializers.IntegerField(required=False, min_value=1, max_value=100, default=10)


MAX_EXCLUDE = 100  # a page shows a few lists of <= 24 items; more is a client bug, and each id costs a lookup
_ID = r"[1-9][0-9]{0,17}"  # a positive id below 2**63 (the schema states it, so generated clients agree)


def _exclude_field() -> serializers.RegexField:
    return serializers.RegexField(
        # non-empty here, blank allowed below: a pattern that matched "" too would make the schema's oneOf ambiguous
        rf"^{_ID}(,{_ID}){{0,{MAX_EXCLUDE - 1}}}$",
        required=False,
        allow_blank=True,
        default="",
        help_text=f"Comma-separated product ids already shown on the page (at most {MAX_EXCLUDE}): never in the list.",
        error_messages={"invalid": f"Comma-separated positive product ids, at most {MAX_EXCLUDE}."},
    )


def _exclude_ids(value: str) -> list[int]:
    return [int(part) for part in value.split(",") if part]


class ItemSerializer(serializers.Serializer[Any]):
    product = serializers.DictField(help_text="The product, as RECOMMENDER['PRODUCT_SERIALIZER'] renders it.")
    score = serializers.FloatField()
    reason = serializers.CharField()
    # Shadows Field.source in the stubs only: DRF's serializer metaclass pops declared fields off the class.
    source = serializers.CharField()  # type: ignore[assignment]


def _items(rows: list[Any]) -> list[dict[str, Any]]:
    products = products_rendered([r.product_id for r in rows])
    return [
        {"product": products[r.product_id], "score": r.score, "reason": getattr(r, "reason", ""), "source": r.source}
        for r in rows
        if r.product_id in products
    ]


class RecommendationListApi(ShopperListApi):
    """Recommendations for the signed-in user, else for the browser's shopper cookie (an API key with
    `recommendations:read` names `session_id` instead; a browser naming anyone else's gets a 403); `ranker` says
    what ordered the list (`teacher`, `student:<version>`, `embedding`, or `trending` for a visitor we know nothing
    about)."""

    prefetch = True

    class InputSerializer(QueryParamsSerializer):
        scenario = serializers.ChoiceField(choices=SCENARIOS, default="home")
        product_id = serializers.IntegerField(required=False, min_value=1)
        session_id = session_id_field()
        n = _n_field()
        exclude = _exclude_field()

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            if attrs["scenario"] == "product" and not attrs.get("product_id"):
                raise serializers.ValidationError({"product_id": "required for scenario=product"})
            if attrs["n"] > recommender_settings.MAX_N:
                raise serializers.ValidationError({"n": f"at most {recommender_settings.MAX_N}"})
            return attrs

    class OutputSerializer(serializers.Serializer[Any]):
        request_id = serializers.UUIDField()
        scenario = serializers.CharField()
        ranker = serializers.CharField()
        experiment = serializers.CharField(allow_null=True, help_text="the running experiment, or null")
        arm = serializers.CharField(allow_null=True, help_text="the shopper's arm ('interleaved' mixes two), or null")
        relaxed = serializers.ListField(
            child=serializers.CharField(),
            help_text='what was given up to fill the page: ["price"] when too few items fit the stated price range',
        )
        items = ItemSerializer(many=True)

    @extend_schema(parameters=[InputSerializer], responses=OutputSerializer)
    def get(self, request: Request) -> Response:
        data = self.query_params(request)
        return _served_response(
            self,
            request,
            data,
            scenario=data["scenario"],
            product_id=data.get("product_id"),
            session_id=data["session_id"],
        )


def _served_response(
    view: ShopperListApi,
    request: Request,
    data: dict[str, Any],
    *,
    scenario: str,
    product_id: int | None,
    session_id: str = "",
) -> Response:
    """A list served to the request's shopper (`session_id`: the one an API key names), in the list shape: the
    recommendations endpoint and a product page's own lists answer alike."""
    shopper = view.shopper(request, session_id=session_id)
    try:
        served = recommendation_list(
            scenario=scenario,
            user=shopper.user,
            session_id=shopper.session_id,
            product_id=product_id,
            n=data["n"],
            # a cross-site navigation is served, never recorded (no list, no fatigue): issue #21, repro 12
            record=view.may_record(request),
            exclude=_exclude_ids(data["exclude"]),
            prefetched=view.prefetched(request),
        )
    except UnknownProductError as exc:
        raise NotFound(str(exc)) from exc
    except RecommendationError as exc:
        raise ValidationError({"product_id": str(exc)}) from exc
    return Response(_served_body(served))


def _served_body(served: ServedList) -> dict[str, Any]:
    return {
        "request_id": served.request_id,
        "scenario": served.scenario,
        "ranker": served.ranker,
        "experiment": served.experiment,
        "arm": served.arm,
        "relaxed": served.relaxed,
        "items": _items(served.items),
    }


class _ProductListApi(ShopperListApi):
    """GET /api/products/{id}/<list>/?n=&exclude= : a product page's own list, served, recorded and attributed like
    recommendations (request_id, reasons, positions), in the same shape. A cross-site GET is served without
    being recorded (`self.may_record`: tests/recommender/api/test_cross_site_get.py)."""

    prefetch = True
    scenario = ""

    class InputSerializer(QueryParamsSerializer):
        n = _n_field()
        exclude = _exclude_field()

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            if attrs["n"] > recommender_settings.MAX_N:
                raise serializers.ValidationError({"n": f"at most {recommender_settings.MAX_N}"})
            return attrs

    @extend_schema(parameters=[InputSerializer], responses=RecommendationListApi.OutputSerializer)
    def get(self, request: Request, product_id: int) -> Response:
        data = self.query_params(request)
        return _served_response(self, request, data, scenario=self.scenario, product_id=product_id)


class ProductSimilarApi(_ProductListApi):
    """Content-similar products (nearest neighbours of the product's text embedding); scenario `similar`."""

    scenario = "similar"


class ProductComplementsApi(_ProductListApi):
    """Products that go well with this one (what shoppers buy with it, within categories that go with its own);
    scenario `complements`."""

    scenario = "complements"


class MeDataApi(ShopperMixin, APIView):
    """The requesting shopper's own data: GET exports it as JSON (events, preferences, served lists, teacher
    judgments about them); DELETE erases it all, Redis state included, and gives the browser a new anonymous id.
    For the signed-in user (with their browser's anonymous history) or the anonymous cookie holder; API keys
    cannot use it (support staff use `manage.py dragonrec_forget`)."""

    permission_classes = [ApiKeyScopes]  # no required_scopes: every API key is refused

    @extend_schema(
        responses=inline_serializer(
            "MeDataOutput",
            {
                "user_id": serializers.IntegerField(allow_null=True),
                "session_id": serializers.CharField(),
                "events": serializers.ListField(child=serializers.DictField()),
                "preferences": serializers.ListField(child=serializers.DictField()),
                "impressions": serializers.ListField(child=serializers.DictField()),
                "judgments": serializers.ListField(child=serializers.DictField()),
            },
        )
    )
    def get(self, request: Request) -> Response:
        shopper = self.shopper(request)
        return Response(shopper_data_export(user_id=shopper.user_id, session_id=shopper.session_id))

    @extend_schema(
        request=None,
        responses={
            200: inline_serializer("MeDataErased", {"erased": serializers.DictField(child=serializers.IntegerField())})
        },
    )
    def delete(self, request: Request) -> Response:
        shopper = self.shopper(request)
        report = shopper_data_erase(user_id=shopper.user_id, session_id=shopper.session_id, requested_by="shopper")
        cookie_rotate(request)
        return Response({"erased": report.as_dict()})


class ExperimentResultsApi(APIView):
    """The figures of one experiment (staff only): per arm shoppers, lists, impressions and rates with 95%
    intervals, the lift over the control with its interval and p-value, and the sample ratio check. Computed now
    from the per-shopper-day aggregates, brought up to date unless they were within the last minute."""

    permission_classes = [IsAdminUser]

    @extend_schema(
        responses={
            200: inline_serializer("ExperimentResults", {"experiment": serializers.CharField()}),
            404: OpenApiResponse(description="no such experiment"),
        }
    )
    def get(self, request: Request, experiment_id: int) -> Response:
        from dragonrec.recommender.models import Experiment
        from dragonrec.recommender.services.experiments import experiment_results

        experiment = Experiment.objects.filter(pk=experiment_id).first()
        if experiment is None:
            raise Http404("No such experiment.")
        return Response(experiment_results(experiment=experiment))
