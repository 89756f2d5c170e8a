"""oncotrial: oncology trials from protocol to publication.

Layers (data flows one way, see docs/ARCHITECTURE.md):
spec -> design/simulate; raw data -> derive -> analysis data -> stats -> report.
"""

__version__ = "0.1.0"
