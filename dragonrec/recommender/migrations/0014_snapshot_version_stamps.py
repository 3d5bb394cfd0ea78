# Indexes whose last entry is a catalog snapshot part's version (stores._snapshot_version): the newest embedding,
# trending score and complement without scanning a million rows.

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('dragonrec_recommender', '0013_served_item_ids_packed'),
        migrations.swappable_dependency(settings.DRAGONREC_PRODUCT_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name='categorycomplement',
            index=models.Index(fields=['computed_at'], name='dragonrec_catcomp_stamp'),
        ),
        migrations.AddIndex(
            model_name='productcomplement',
            index=models.Index(fields=['computed_at'], name='dragonrec_complement_stamp'),
        ),
        migrations.AddIndex(
            model_name='productembedding',
            index=models.Index(fields=['model_name', 'embedded_at'], name='dragonrec_embedding_stamp'),
        ),
        migrations.AddIndex(
            model_name='trendingscore',
            index=models.Index(fields=['computed_at'], name='dragonrec_trending_stamp'),
        ),
    ]
