"""Query understanding, dialogue state, ranking and explanations over a Moodring index."""
