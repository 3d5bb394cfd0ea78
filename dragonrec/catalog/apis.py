from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from dragonrec.api_params import StrictPageNumberPagination
from dragonrec.catalog.models import Product
from dragonrec.catalog.selectors import ProductFilter, category_list, product_get, product_list


class ProductOutputSerializer(serializers.ModelSerializer[Product]):
    category = serializers.CharField(source="category_path", read_only=True)
    category_id = serializers.IntegerField(read_only=True, allow_null=True)
    # a full URL (a shop's CDN) or a path on this site (the demo's own pictures, /static/...): a URI reference
    image_url = serializers.CharField(read_only=True, help_text="The product's picture: a URL or a path on this site.")

    class Meta:
        model = Product
        fields = [
            "id",
            "sku",
            "title",
            "description",
            "brand",
            "category",
            "category_id",
            "price",
            "currency",
            "stock_quantity",
            "in_stock",
            "image_url",
            "attributes",
            "updated_at",
        ]
        # An answer, never an input: every field is always there, and the schema says so (the storefront's generated
        # types would otherwise read each one as optional).
        read_only_fields = fields


class ProductListApi(ListAPIView[Product]):
    """Active products, filterable by search words, category, brand, price range and stock."""

    serializer_class = ProductOutputSerializer
    filterset_class = ProductFilter
    pagination_class = StrictPageNumberPagination

    def get_queryset(self) -> QuerySet[Product]:
        return product_list()


class ProductDetailApi(APIView):
    @extend_schema(responses=ProductOutputSerializer)
    def get(self, request: Request, product_id: int) -> Response:
        product = product_get(product_id=product_id)
        if product is None:
            raise Http404("No such product.")
        return Response(ProductOutputSerializer(product).data)


class CategoryListApi(APIView):
    """The category tree, flat and ordered by path, with active product counts: a storefront's navigation."""

    class CategorySerializer(serializers.Serializer[Any]):  # named for its OpenAPI component: "Category"
        id = serializers.IntegerField()
        name = serializers.CharField()
        path = serializers.CharField(help_text="'Electronics > Monitors'")
        parent_id = serializers.IntegerField(allow_null=True)
        depth = serializers.IntegerField()
        product_count = serializers.IntegerField(help_text="active products in this category or below it")

    @extend_schema(responses=CategorySerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(self.CategorySerializer(category_list(), many=True).data)
