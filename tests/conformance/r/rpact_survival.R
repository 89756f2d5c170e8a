# Reference survival sample sizes from rpact getSampleSizeSurvival() (and getPowerSurvival),
# written to src/oncotrial/validation/references/rpact_survival.json.
# Run from the repository root:  Rscript tests/conformance/r/rpact_survival.R
suppressMessages({library(rpact); library(jsonlite)})

as_name <- c(of = "asOF", pocock = "asP", hsd = "asHSD", none = "noEarlyEfficacy")
bs_name <- c(of = "bsOF", pocock = "bsP", hsd = "bsHSD")
WEEK <- 7 / 30.4375  # weeks -> months

# `input` uses oncotrial's survival_design() argument names; `rp` the rpact call.
make_case <- function(name, input, rp) {
  seq <- input$looks
  if (!is.null(seq)) {
    dargs <- list(kMax = length(seq), alpha = input$alpha, beta = 1 - input$power,
                  sided = input$sides, informationRates = seq,
                  typeOfDesign = unname(as_name[input$spending]))
    if (!is.null(input$gamma)) dargs$gammaA <- input$gamma
    fut <- if (is.null(input$futility)) "none" else input$futility
    if (fut != "none") dargs$bindingFutility <- isTRUE(input$binding)
    if (fut == "beta-spending") dargs$typeBetaSpending <- unname(bs_name[input$beta_spending])
    if (!is.null(input$beta_gamma)) dargs$gammaB <- input$beta_gamma
    if (fut == "fixed") dargs$futilityBounds <- input$futility_bounds
    rp$design <- do.call(getDesignGroupSequential, dargs)
  } else {
    rp$alpha <- input$alpha; rp$beta <- 1 - input$power; rp$sided <- input$sides
  }
  rp$allocationRatioPlanned <- if (is.null(input$ratio)) 1 else input$ratio
  rp$typeOfComputation <- if (is.null(input$method)) "Schoenfeld" else
    c(schoenfeld = "Schoenfeld", freedman = "Freedman")[[input$method]]
  x <- do.call(getSampleSizeSurvival, rp)
  expected <- list(events_fixed = x$eventsFixed,
                   max_events = x$maxNumberOfEvents,
                   events_by_look = as.numeric(x$eventsPerStage))
  if (!is.null(input$accrual_time)) {
    expected$n <- x$maxNumberOfSubjects
    expected$analysis_time <- as.numeric(x$analysisTime)
  }
  input$events_rounding <- "none"
  list(kind = "rpact_sample_size_survival", name = name, input = input,
       expected = expected, tolerance = list(rel = 1e-6))
}

cases <- list(
  make_case("PALMIRA: HR 0.59, two-sided 0.05, 80%, 2:1, Schoenfeld",
            list(hr = 0.59, alpha = 0.05, sides = 2, power = 0.8, ratio = 2),
            list(hazardRatio = 0.59)),
  make_case("PALMIRA: HR 0.59, two-sided 0.05, 80%, 2:1, Freedman",
            list(hr = 0.59, alpha = 0.05, sides = 2, power = 0.8, ratio = 2, method = "freedman"),
            list(hazardRatio = 0.59)),
  make_case("Freedman, allocation 1:2, HR 0.7, one-sided 0.025, 90%",
            list(hr = 0.7, alpha = 0.025, sides = 1, power = 0.9, ratio = 0.5,
                 method = "freedman"),
            list(hazardRatio = 0.7)),
  make_case("ACCRU-BR-1801 ER+ cohort, fixed design, Schoenfeld (12 vs 24 weeks)",
            list(median_control = 12 * WEEK, median_experimental = 24 * WEEK, alpha = 0.1,
                 sides = 1, power = 0.9, accrual_time = 12, follow_up = 12),
            list(median2 = 12 * WEEK, median1 = 24 * WEEK, accrualTime = c(0, 12),
                 followUpTime = 12)),
  make_case("ACCRU-BR-1801 ER+ cohort, futility-only z=0 at 50% events (Wieand), non-binding",
            list(median_control = 12 * WEEK, hr = 0.5, alpha = 0.1, sides = 1, power = 0.9,
                 accrual_time = 12, follow_up = 12, looks = c(0.5, 1), spending = "none",
                 futility = "fixed", futility_bounds = 0, binding = FALSE),
            list(median2 = 12 * WEEK, hazardRatio = 0.5, accrualTime = c(0, 12),
                 followUpTime = 12)),
  make_case("ACCRU-BR-1801 ER- cohort, futility-only z=0 at 50% events (Wieand), non-binding",
            list(median_control = 6 * WEEK, hr = 0.5, alpha = 0.1, sides = 1, power = 0.85,
                 accrual_time = 12, follow_up = 12, looks = c(0.5, 1), spending = "none",
                 futility = "fixed", futility_bounds = 0, binding = FALSE),
            list(median2 = 6 * WEEK, hazardRatio = 0.5, accrualTime = c(0, 12),
                 followUpTime = 12)),
  make_case("OF 3 looks, 2:1, HR 0.7, median 6, dropout 5%/12, accrual 24, follow-up 12",
            list(median_control = 6, hr = 0.7, alpha = 0.025, sides = 1, power = 0.9, ratio = 2,
                 looks = c(0.33, 0.67, 1), spending = "of", accrual_time = 24, follow_up = 12,
                 dropout_rate = 0.05, dropout_time = 12),
            list(median2 = 6, hazardRatio = 0.7, accrualTime = c(0, 24), followUpTime = 12,
                 dropoutRate1 = 0.05, dropoutRate2 = 0.05, dropoutTime = 12)),
  make_case("landmark rates: 12-month PFS 50% vs 65%, two-sided 0.05, 80%",
            list(rate_control = 0.5, rate_experimental = 0.65, landmark = 12, alpha = 0.05,
                 sides = 2, power = 0.8, accrual_time = 18, follow_up = 12),
            list(pi2 = 0.5, pi1 = 0.35, eventTime = 12, accrualTime = c(0, 18),
                 followUpTime = 12)),
  make_case("piecewise hazards (0.1 then 0.05 from month 6), HR 0.75, piecewise accrual",
            list(hazards_control = c(0.1, 0.05), starts = c(0, 6), hr = 0.75, alpha = 0.025,
                 sides = 1, power = 0.8, accrual_time = 18, accrual_starts = c(0, 6),
                 accrual_rates = c(10, 20), follow_up = 12),
            list(piecewiseSurvivalTime = c(0, 6), lambda2 = c(0.1, 0.05), hazardRatio = 0.75,
                 accrualTime = c(0, 6, 18), accrualIntensity = c(0.1, 0.2),
                 followUpTime = 12)),
  make_case("HSD(-4) + HSD(-2) beta spending, binding, 3 looks, 1:1, HR 0.65, median 9",
            list(median_control = 9, hr = 0.65, alpha = 0.025, sides = 1, power = 0.8,
                 looks = c(0.33, 0.67, 1), spending = "hsd", gamma = -4,
                 futility = "beta-spending", beta_spending = "hsd", beta_gamma = -2,
                 binding = TRUE, accrual_time = 20, follow_up = 10),
            list(median2 = 9, hazardRatio = 0.65, accrualTime = c(0, 20), followUpTime = 10)),
  make_case("Pocock two-sided 0.05, 2 looks, 2:1, HR 0.59, median 3.6, accrual 42",
            list(median_control = 3.6, hr = 0.59, alpha = 0.05, sides = 2, power = 0.8,
                 ratio = 2, looks = c(0.5, 1), spending = "pocock", accrual_time = 42,
                 follow_up = 4),
            list(median2 = 3.6, hazardRatio = 0.59, accrualTime = c(0, 42), followUpTime = 4))
)

doc <- list(
  source = sprintf("R %s, rpact %s getSampleSizeSurvival()",
                   paste(R.version$major, R.version$minor, sep = "."), packageVersion("rpact")),
  generated_by = "tests/conformance/r/rpact_survival.R",
  cases = cases)
write(toJSON(doc, auto_unbox = TRUE, digits = NA, pretty = TRUE),
      "src/oncotrial/validation/references/rpact_survival.json")
