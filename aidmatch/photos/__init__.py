"""Photos of a match (delivery proof, damage), kept without any metadata (images.py)."""
