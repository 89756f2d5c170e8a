"""Statistics core: pure functions on arrays / data frames returning typed result objects.

Nothing here reads YAML, files or HTTP; every result carries its :class:`Conventions`.
"""
