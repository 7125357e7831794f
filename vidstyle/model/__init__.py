"""VGG-19 features, weights and the Gatys losses."""
