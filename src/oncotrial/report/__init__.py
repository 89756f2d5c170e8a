"""Publication and regulatory tables, figures and CONSORT from analysis data.

The report renders results computed elsewhere (``oncotrial.stats``, ``oncotrial.analysis``,
``oncotrial.derive``); it computes no statistics itself.
"""
