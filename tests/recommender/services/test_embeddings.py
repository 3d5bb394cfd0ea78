from __future__ import annotations

import numpy as np
import pytest

from dragonrec.catalog.factories import ProductFactory
from dragonrec.recommender.models import ProductEmbedding
from dragonrec.recommender.services.embeddings import (
    dirty_products_queryset,
    embedding_model_name,
    product_embeddings_refresh,
    product_embeddings_refresh_all,
)

pytestmark = pytest.mark.django_db


def test_products_are_embedded_once_and_only_again_when_their_text_changes() -> None:
    # given
    keyboard = ProductFactory(title="Mechanical Keyboard", description="Brown switches")
    ProductFactory(title="Wireless Mouse")
    # when
    assert product_embeddings_refresh_all() == 2
    # then: unit vectors of the model's dimension, nothing left dirty
    row = ProductEmbedding.objects.get(product=keyboard)
    assert len(row.vector) == 384 and abs(np.linalg.norm(row.vector) - 1) < 1e-4
    assert not dirty_products_queryset(model_name=embedding_model_name()).exists()
    # a stock change touches the row but not the text: re-stamped, not re-encoded
    keyboard.stock_quantity = 3
    keyboard.save()
    assert product_embeddings_refresh() == (0, 1)
    # a title change is re-encoded
    keyboard.title = "Mechanical Keyboard, Red Switches"
    keyboard.save()
    assert product_embeddings_refresh() == (1, 0)
    assert ProductEmbedding.objects.get(product=keyboard).text_hash != row.text_hash


def test_force_reembeds_everything() -> None:
    ProductFactory.create_batch(3)
    product_embeddings_refresh_all()
    assert product_embeddings_refresh_all(force=True) == 3


def test_embed_command(capsys: pytest.CaptureFixture[str]) -> None:
    from django.core.management import call_command

    ProductFactory.create_batch(2)
    call_command("recommender_embed", "--no-progress")
    assert "2 products embedded" in capsys.readouterr().out
