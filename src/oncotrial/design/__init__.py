"""Trial design calculators: sample size, events and group-sequential boundaries.

Two-arm time-to-event designs live in :mod:`oncotrial.design.survival` and
:mod:`oncotrial.design.accrual`; group-sequential boundaries in
:mod:`oncotrial.design.sequential`.
"""
