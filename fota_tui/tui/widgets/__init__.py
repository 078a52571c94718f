"""Console widgets (the only layer besides the app that imports Textual)."""
