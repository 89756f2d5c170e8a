"""Data files: reading the formats the field uses, and the shipped example data."""
