"""Catalogue loading, bucketing, templating, embedding, and FAISS index build and persistence."""
