"""Matching requests to recordings: request keys (`keys.py`) and what a client sees when nothing
matches (`misses.py`)."""
