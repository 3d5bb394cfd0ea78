"""DragonRec: LLM-quality product recommendations for Django shops, served by a small local model.

The installable apps live in this namespace so that a host project can have its own `catalog` (or `tracking`)
app beside ours: modules are `dragonrec.catalog`, `dragonrec.tracking`, `dragonrec.recommender`, app labels
`dragonrec_catalog`, `dragonrec_tracking`, `dragonrec_recommender`, and every table name starts with `dragonrec_`.
"""

__version__ = "0.1.0"
