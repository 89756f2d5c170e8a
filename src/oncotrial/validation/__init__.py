"""Open validation: reference cases shipped inside the package (see registry.py)."""
