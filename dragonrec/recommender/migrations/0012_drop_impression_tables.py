"""Issue #24: every consumer reads the compact served-list storage (0011 converted the old rows); the old per-item
tables go. Reversible: going back recreates them empty (0011 keeps no copy of lists written after it)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("dragonrec_recommender", "0011_served_lists"),
    ]

    operations = [
        migrations.DeleteModel(name="ImpressionItem"),
        migrations.DeleteModel(name="Impression"),
    ]
