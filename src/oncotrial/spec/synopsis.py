"""A readable protocol synopsis of a trial spec, as plain text sections.

The same words feed ``oncotrial spec show`` (rendered with rich) and reports.
"""

from __future__ import annotations

from oncotrial.spec.models import Assessment, DesignBlock, Period, TrialSpec


def describe_period(period: Period) -> str:
    """Words for a period, e.g. "every 8 weeks up to month 12 (±7 days)"."""
    if period.every_cycles is not None:
        every = "every cycle" if period.every_cycles == 1 else f"every {period.every_cycles} cycles"
        text = f"day {period.cycle_day} of {every}"
        if period.until_cycle is not None:
            text += f" up to cycle {period.until_cycle}"
    else:
        if period.every_weeks is not None:
            text = f"every {period.every_weeks:g} weeks"
        else:
            text = f"every {period.every_days} days"
        if period.until_months is not None:
            text += f" up to month {period.until_months:g}"
        elif period.until_weeks is not None:
            text += f" up to week {period.until_weeks:g}"
    if period.window_days:
        text += f" (±{period.window_days} days)"
    return text


def describe_assessment(assessment: Assessment) -> str:
    parts = [describe_period(p) for p in assessment.periods]
    text = ", then ".join(parts) if parts else ""
    if assessment.extra_study_days:
        days = ", ".join(str(d) for d in assessment.extra_study_days)
        text = (text + "; " if text else "") + f"on study day {days}"
    if assessment.baseline:
        text = f"baseline (within {assessment.baseline_window_days} days), " + text
    if assessment.condition:
        text += f"; if {assessment.condition}"
    return text


def describe_design(design: DesignBlock) -> list[str]:
    lines = [f"{design.type}: {design.summary.strip()}"]
    extras = {k: v for k, v in (design.model_extra or {}).items()}
    if extras:
        lines.append("parameters: " + ", ".join(f"{k}={v}" for k, v in extras.items()))
    return lines


def synopsis_sections(spec: TrialSpec) -> list[tuple[str, list[str]]]:
    """Ordered (heading, lines) pairs of the protocol synopsis."""
    t = spec.trial
    identity = [
        f"{t.title.strip()}",
        f"Phase {t.phase}"
        + (f" · {t.registry_id}" if t.registry_id else "")
        + (f" · sponsor {t.sponsor}" if t.sponsor else ""),
        f"Population: {t.population.strip()}",
    ]
    arms = [f"Allocation {spec.ratio_text} ({', '.join(a.name for a in spec.arms)})"]
    for arm in spec.arms:
        arms.append(f"{arm.label} [{arm.name}, weight {arm.ratio}]")
        for agent in arm.regimen:
            cond = f" — {agent.condition}" if agent.condition else ""
            arms.append(f"    {agent.agent}: {agent.text.strip()}{cond}")
        if arm.choice:
            arms.append(f"    choice: {arm.choice.strip()}")
    arms.append(
        f"Cycles of {spec.treatment.cycle_days} days from {spec.treatment.start}; "
        f"treatment until {spec.treatment.until}"
    )
    strata = [f"{s.label} ({s.name}): {' / '.join(s.levels)}" for s in spec.stratification] or [
        "none"
    ]
    eligibility = [f"{kind[:3].upper()} {c.id}: {c.text.strip()}" for kind, c in spec.criteria]
    schedule = [f"{a.name} ({a.kind}): {describe_assessment(a)}" for a in spec.assessments]
    endpoints = []
    for e in spec.endpoints:
        extra = f" [censoring: {e.censoring}]" if isinstance(e.censoring, str) else ""
        endpoints.append(f"{e.id} ({e.role}, {e.type}): {e.definition.strip()}{extra}")
    design: list[str] = []
    if spec.design is not None:
        design += describe_design(spec.design)
    if spec.dose_escalation is not None:
        de = spec.dose_escalation
        levels = ", ".join(f"{d:g}" for d in de.dose_levels)
        design.append(
            f"Dose escalation of {de.agent} ({levels} {de.unit}), "
            f"DLT window {de.dlt_window_days} days"
        )
        design += ["    " + line for line in describe_design(de.design)]
    for cohort in spec.cohorts:
        design.append(f"Cohort {cohort.id} ({cohort.label}):")
        design += ["    " + line for line in describe_design(cohort.design)]
    p = spec.analyses.primary
    analyses = [
        f"Primary: {p.endpoint}, {p.test}"
        + (f" stratified by {', '.join(p.stratified_by)}" if p.stratified_by else "")
        + f", {p.sides}-sided alpha {p.alpha:g}; effect: {p.effect_measure}",
        "Populations: "
        + "; ".join(f"{x.name} = {x.definition}" for x in spec.analyses.populations),
    ]
    if spec.analyses.landmarks_months:
        analyses.append(
            "Landmarks (months): " + ", ".join(f"{m:g}" for m in spec.analyses.landmarks_months)
        )
    if spec.analyses.subgroups:
        analyses.append(
            "Subgroups: "
            + "; ".join(
                f"{s.label} ({' / '.join(lv.label for lv in s.levels)})"
                for s in spec.analyses.subgroups
            )
        )
    if spec.analyses.interim:
        analyses.append(f"Interim: {spec.analyses.interim}")
    c = spec.conventions
    conventions = [
        f"profile {c.profile}, {c.conf_level:.0%} confidence"
        + (f", CI transform {c.conf_type}" if c.conf_type else "")
        + (f", ties {c.ties}" if c.ties else "")
    ]
    sections = [
        (f"{t.id}", identity),
        ("Arms", arms),
        ("Stratification", strata),
        ("Eligibility", eligibility),
        ("Schedule", schedule),
        ("Endpoints", endpoints),
        ("Design", design),
        ("Analyses", analyses),
        ("Conventions", conventions),
    ]
    if spec.assumptions:
        sections.append(("Assumptions (not stated in the sources)", list(spec.assumptions)))
    return sections


def synopsis_text(spec: TrialSpec) -> str:
    out: list[str] = []
    for heading, lines in synopsis_sections(spec):
        out.append(heading)
        out.extend("  " + line for line in lines)
        out.append("")
    return "\n".join(out)
