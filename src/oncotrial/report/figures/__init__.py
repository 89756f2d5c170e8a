"""Figures of the report: Kaplan-Meier, forest, CONSORT, waterfall and swimmer plots."""
