"""Writes of the recommender, by topic: embeddings, recommendations (serving + impressions), aggregates (trending,
complements), teacher judgments, student training and the model registry."""
