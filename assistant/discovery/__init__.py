"""Discovery features on top of search: more like this, mood presets, genre and era browsing, taste profiles and
playlist export. Each module has one job; none is imported by the package itself, so importing one does not pull in
plotting or file handling."""
