"""The storefront's client-side routes all answer its index.html; anything else under / is a 404 as usual."""

from django.urls import path

from config.storefront import storefront

urlpatterns = [
    path("", storefront, name="home"),
    path("search", storefront, name="storefront-search"),
    path("category/<int:category_id>", storefront, name="storefront-category"),
    path("products/<int:product_id>", storefront, name="storefront-product"),
    path("cart", storefront, name="storefront-cart"),
    path("account", storefront, name="storefront-account"),
]
