"""A listener's own history: reading the files people have, matching plays to the catalogue, plays as a taste."""
