from django.urls import path

from dragonrec.recommender.apis import (
    ExperimentResultsApi,
    MeDataApi,
    ProductComplementsApi,
    ProductSimilarApi,
    RecommendationListApi,
)
from dragonrec.recommender.search_apis import SearchApi, SearchSuggestApi

urlpatterns = [
    path("recommendations/", RecommendationListApi.as_view(), name="recommendation-list"),
    path("search/", SearchApi.as_view(), name="search"),
    path("search/suggest/", SearchSuggestApi.as_view(), name="search-suggest"),
    path("me/data/", MeDataApi.as_view(), name="me-data"),
    path("experiments/<int:experiment_id>/results/", ExperimentResultsApi.as_view(), name="experiment-results"),
    path("products/<int:product_id>/similar/", ProductSimilarApi.as_view(), name="product-similar"),
    path("products/<int:product_id>/complements/", ProductComplementsApi.as_view(), name="product-complements"),
]
