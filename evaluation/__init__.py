"""Retrieval quality: a labelled query set judged on catalogue fields, Moodring against three baselines."""
