"""Catalogue loading, bucketing, templating, embedding, and FAISS index build and persistence."""

from index_builder.process import prepare_environment

# Every entry point imports this package before numpy loads (app.py first of all; the other packages from their
# __init__), so the process environment is set here, once. index_builder/process.py says what and why.
prepare_environment()
