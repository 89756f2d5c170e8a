# Reference operating characteristics for oncotrial.simulate from rpact getSimulationSurvival
# (an independent simulation of the same trial model): power, stopping probabilities per
# stage, expected events/subjects and study duration, with the number of iterations (so the
# Monte Carlo standard error is known). rpact's model: regular entry (i-th patient at
# i * accrual / n), the fixed allocation pattern allocation1:allocation2 in entry order,
# piecewise-exponential event times, exponential dropout, log-rank test, analyses at planned
# event counts. oncotrial reproduces it with Accrual(entry="regular") and
# Randomization("fixed"). Times are in months; weeks are converted with 7 / 30.4375.
# Run from the repository root:  Rscript tests/conformance/r/rpact_simulate.R
suppressMessages({library(rpact); library(jsonlite)})
SOURCE <- sprintf("%s; rpact %s", R.version.string, packageVersion("rpact"))
ITER <- 50000
MPW <- 7 / 30.4375

run <- function(name, design, n, accrual, alloc, lambda2, lambda1, events, times = NA,
                dropout = 0, dropout_time = 12) {
  args <- list(design = design, lambda2 = lambda2, lambda1 = lambda1,
               accrualTime = c(0, accrual), maxNumberOfSubjects = n,
               allocation1 = alloc[1], allocation2 = alloc[2], plannedEvents = events,
               directionUpper = FALSE, maxNumberOfIterations = ITER, seed = 20240605)
  if (!all(is.na(times))) args$piecewiseSurvivalTime <- times
  if (dropout > 0) {
    args$dropoutRate1 <- dropout; args$dropoutRate2 <- dropout; args$dropoutTime <- dropout_time
  }
  s <- do.call(getSimulationSurvival, args)
  list(
    name = name, n = n, accrual_months = accrual, allocation = alloc,
    lambda_control = lambda2, lambda_experimental = lambda1,
    piecewise_starts = if (all(is.na(times))) list(0) else times,
    events = events, dropout_rate = dropout, dropout_time = dropout_time,
    alpha = design$alpha, sides = design$sided,
    critical_values = as.numeric(design$criticalValues),
    futility_bounds = as.numeric(design$futilityBounds),
    iterations = ITER,
    power = s$overallReject,
    reject_per_stage = as.numeric(s$rejectPerStage),
    futility_per_stage = as.numeric(s$futilityPerStage),
    expected_events = s$expectedNumberOfEvents,
    expected_subjects = s$expectedNumberOfSubjects,
    study_duration = s$studyDuration
  )
}

fixed <- getDesignGroupSequential(kMax = 1, alpha = 0.025, sided = 1)
futility_look <- function(alpha) getDesignGroupSequential(
  kMax = 2, informationRates = c(0.5, 1), typeOfDesign = "noEarlyEfficacy", alpha = alpha,
  sided = 1, futilityBounds = 0, bindingFutility = FALSE)
l6 <- log(2) / 6
l12 <- log(2) / 12
cases <- list(
  # PALMIRA-like: 198 patients, 2:1, uniform accrual 24 months, control median 6 months
  run("palmira", fixed, 198, 24, c(2, 1), l6, 0.59 * l6, 127),
  run("palmira_null", fixed, 198, 24, c(2, 1), l6, l6, 127),
  run("palmira_dropout", fixed, 198, 24, c(2, 1), l6, 0.59 * l6, 127, dropout = 0.1),
  # ACCRU-BR-1801 cohorts: 1:1, medians 12 vs 24 weeks (ER+), 6 vs 12 weeks (ER-),
  # 12 months of accrual, non-binding futility at z <= 0 after half the events
  run("accru_er_pos", futility_look(0.10), 64, 12, c(1, 1), log(2) / (12 * MPW),
      log(2) / (24 * MPW), c(29, 58)),
  run("accru_er_neg", futility_look(0.10), 50, 12, c(1, 1), log(2) / (6 * MPW),
      log(2) / (12 * MPW), c(24, 48)),
  # Non-proportional hazards: delayed effect, HR 1 for 4 months then 0.6
  run("delayed_effect", fixed, 300, 12, c(1, 1), c(l12, l12), c(l12, 0.6 * l12), 200,
      times = c(0, 4))
)
out <- list(source = SOURCE, cases = cases)
write(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE, null = "null", na = "null"),
      "tests/conformance/simulate_rpact.json")
cat("wrote tests/conformance/simulate_rpact.json\n")
