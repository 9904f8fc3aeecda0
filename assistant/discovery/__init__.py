"""Discovery features on top of search: more like this, mood presets, genre and era browsing, taste profiles,
artist diversity and playlist export. Each module has one job; none is imported by the package itself, so the
engine can import ``diversity`` without pulling in plotting or file handling."""
