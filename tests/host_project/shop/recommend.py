"""How DragonRec reads this shop's products (see DragonRec's docs/extending.md)."""

from rest_framework import serializers

from dragonrec.recommender.adapters import DefaultProductAdapter
from shop.models import Product


class ProductAdapter(DefaultProductAdapter):
    title_field = "name"
    brand_field = "maker"
    description_field = "blurb"
    category_path_field = "section_path"
    price_field = "cost"
    in_stock_field = "available"
    active_field = "published"
    updated_field = "modified"
    sku_field = None  # no SKUs here: exports name products prod_<id>
    attributes_field = None


class ProductSerializer(serializers.ModelSerializer):
    class Meta:
        model = Product
        fields = ["id", "name", "maker", "section_path", "cost"]
