# Reference patient numbers for the log-rank test by Lachin & Foulkes (1986) and Lakatos (1988),
# written to src/oncotrial/validation/references/patients_methods_r.json.
# Run from the repository root:  Rscript tests/conformance/r/patients_methods.R
#
# Both are written here from the papers' formulas, independently of oncotrial's Python:
# * Lachin-Foulkes uses the closed-form event probability of L&F eq. 4.1 (uniform entry over
#   R, analysis at T, exponential loss eta), where oncotrial integrates numerically;
# * Lakatos propagates each arm's two active states with the closed-form solution of the
#   linear ODE on each constant-rate piece, where oncotrial uses a matrix exponential.
# The "events first" numbers (Schoenfeld / Freedman events over the mean event probability)
# come from rpact getSampleSizeSurvival, the reference already used for that route.
suppressMessages({library(rpact); library(jsonlite)})

WEEK <- 7 / 30.4375

# ---- Lachin & Foulkes (1986), eq. 2.4 with eq. 4.1 ------------------------------------------
p_event_lf <- function(lam, eta, R, Tt) {
  k <- lam + eta
  if (R == 0) return(lam / k * (1 - exp(-k * Tt)))
  lam / k * (1 - (exp(-k * (Tt - R)) - exp(-k * Tt)) / (k * R))
}

lf_case <- function(name, lam_c, hr, ratio, R, fu, eta, alpha, sides, power, input) {
  Tt <- R + fu
  lam_e <- lam_c * hr
  qc <- 1 / (1 + ratio); qe <- ratio / (1 + ratio)
  lbar <- qc * lam_c + qe * lam_e
  phi <- function(l) l^2 / p_event_lf(l, eta, R, Tt)
  za <- qnorm(1 - alpha / sides); zb <- qnorm(power)
  root <- za * sqrt(phi(lbar) * (1 / qc + 1 / qe)) + zb * sqrt(phi(lam_c) / qc + phi(lam_e) / qe)
  n <- (root / abs(lam_c - lam_e))^2
  pc <- p_event_lf(lam_c, eta, R, Tt); pe <- p_event_lf(lam_e, eta, R, Tt)
  list(kind = "patients_lachin_foulkes", name = name, input = input,
       expected = list(n_exact = n, event_probability_control = pc,
                       event_probability_experimental = pe,
                       events_expected = n * (qc * pc + qe * pe)),
       tolerance = list(rel = 1e-6))
}

# ---- Lakatos (1988) ---------------------------------------------------------------------------
ex1 <- function(a, u) if (a == 0) u else -expm1(-a * u) / a     # int_0^u exp(-a s) ds

# Advance (px, py, ev) over u: px = current treatment (switch to y at rate s), py = switched.
advance <- function(st, u, hx, hy, l, s) {
  A <- hx + l + s; B <- hy + l
  px <- st[1] * exp(-A * u)
  if (abs(A - B) > 1e-12) {
    py <- st[2] * exp(-B * u) + s * st[1] * (exp(-A * u) - exp(-B * u)) / (B - A)
    int_py <- st[2] * ex1(B, u) + s * st[1] / (B - A) * (ex1(A, u) - ex1(B, u))
  } else {
    py <- st[2] * exp(-B * u) + s * st[1] * u * exp(-A * u)
    int_py <- st[2] * ex1(B, u) +
      s * st[1] * (if (A == 0) u^2 / 2 else (1 - exp(-A * u) * (1 + A * u)) / A^2)
  }
  c(px, py, st[3] + hx * st[1] * ex1(A, u) + hy * int_py)
}

# Mean of G(t) = P(entry <= T - t) over [lo, hi], uniform entry over [0, R].
mean_g <- function(lo, hi, R, Tt) {
  G <- function(t) if (R == 0) as.numeric(t <= Tt) else pmin(1, pmax(0, (Tt - t) / R))
  pts <- sort(unique(c(lo, hi, Tt - R, Tt)))
  pts <- pts[pts >= lo & pts <= hi]
  sum(sapply(seq_len(length(pts) - 1), function(i)
    0.5 * (G(pts[i]) + G(pts[i + 1])) * (pts[i + 1] - pts[i]))) / (hi - lo)
}

# states of one arm on the grid; own = hazards of the randomised treatment, other = switched-to
arm_states <- function(grid, starts, own, other, loss, switch) {
  out <- matrix(0, length(grid), 3); st <- c(1, 0, 0); out[1, ] <- st
  for (i in 2:length(grid)) {
    cuts <- sort(unique(c(grid[i - 1], starts[starts > grid[i - 1] & starts < grid[i]], grid[i])))
    for (k in seq_len(length(cuts) - 1)) {
      j <- max(which(starts <= cuts[k] + 1e-12))
      st <- advance(st, cuts[k + 1] - cuts[k], own[j], other[j], loss[j], switch[j])
    }
    out[i, ] <- st
  }
  out
}

lakatos_case <- function(name, starts, hc, he, ratio, R, fu, loss_c, loss_e, nonc, dropin, b,
                         alpha, sides, power, input) {
  Tt <- R + fu
  K <- max(1, ceiling(Tt * b - 1e-9))
  grid <- seq(0, Tt, length.out = K + 1)
  sc <- arm_states(grid, starts, hc, he, loss_c, dropin)   # control arm: own = control
  se <- arm_states(grid, starts, he, hc, loss_e, nonc)     # experimental arm
  act_c <- sc[-nrow(sc), 1] + sc[-nrow(sc), 2]
  act_e <- se[-nrow(se), 1] + se[-nrow(se), 2]
  de_c <- diff(sc[, 3]); de_e <- diff(se[, 3])
  g <- sapply(seq_len(K), function(i) mean_g(grid[i], grid[i + 1], R, Tt))
  d <- g * (de_c + ratio * de_e) / (1 + ratio)
  phi <- ratio * act_e / act_c
  theta <- (de_e / act_e) / (de_c / act_c)
  num <- sum(d * (phi * theta / (1 + phi * theta) - phi / (1 + phi)))
  var <- sum(d * phi / (1 + phi)^2)
  drift <- abs(num) / sqrt(var)
  n <- ((qnorm(1 - alpha / sides) + qnorm(power)) / drift)^2
  pc <- sum(g * de_c); pe <- sum(g * de_e)
  list(kind = "patients_lakatos", name = name, input = input,
       expected = list(n_exact = n, event_probability_control = pc,
                       event_probability_experimental = pe,
                       events_expected = n * (pc + ratio * pe) / (1 + ratio)),
       tolerance = list(rel = 1e-6))
}

# ---- "events first" (Schoenfeld / Freedman events / mean event probability) via rpact -------
rpact_case <- function(name, input, rp) {
  rp$alpha <- input$alpha; rp$beta <- 1 - input$power; rp$sided <- input$sides
  rp$allocationRatioPlanned <- input$ratio
  rp$typeOfComputation <- c(schoenfeld = "Schoenfeld", freedman = "Freedman")[[input$method]]
  x <- do.call(getSampleSizeSurvival, rp)
  input$events_rounding <- "none"
  list(kind = "rpact_sample_size_survival", name = name, input = input,
       expected = list(events_fixed = x$eventsFixed, max_events = x$maxNumberOfEvents,
                       events_by_look = as.numeric(x$eventsPerStage),
                       n = x$maxNumberOfSubjects, analysis_time = as.numeric(x$analysisTime)),
       tolerance = list(rel = 1e-6))
}

lam12 <- log(2) / (12 * WEEK); lam6 <- log(2) / (6 * WEEK)
eta5 <- -log(1 - 0.05) / 12
accru1 <- list(median_control = 12 * WEEK, hr = 0.5, alpha = 0.1, sides = 1, power = 0.9,
               accrual_time = 12, follow_up = 12)
accru2 <- list(median_control = 6 * WEEK, hr = 0.5, alpha = 0.1, sides = 1, power = 0.85,
               accrual_time = 12, follow_up = 12)
palmira <- list(median_control = 6, hr = 0.59, alpha = 0.05, sides = 2, power = 0.8, ratio = 2,
                accrual_time = 24, follow_up = 12, dropout_rate = 0.05, dropout_time = 12)

cases <- list(
  lf_case("ACCRU-BR-1801 ER+: 12 vs 24 weeks, one-sided 0.10, 90%, 12 + 12 months",
          lam12, 0.5, 1, 12, 12, 0, 0.1, 1, 0.9, accru1),
  lf_case("ACCRU-BR-1801 ER-: 6 vs 12 weeks, one-sided 0.10, 85%, 12 + 12 months",
          lam6, 0.5, 1, 12, 12, 0, 0.1, 1, 0.85, accru2),
  lf_case("PALMIRA-like: HR 0.59, 2:1, two-sided 0.05, 80%, median 6, 24 + 12, 5% loss/yr",
          log(2) / 6, 0.59, 2, 24, 12, eta5, 0.05, 2, 0.8, palmira),
  lf_case("lambda 0.3 vs 0.2, R 3, T 5, loss 0.1, two-sided 0.05, 90%",
          0.3, 2 / 3, 1, 3, 2, 0.1, 0.05, 2, 0.9,
          list(hazards_control = 0.3, hr = 2 / 3, alpha = 0.05, sides = 2, power = 0.9,
               accrual_time = 3, follow_up = 2, dropout_rate = 1 - exp(-0.1),
               dropout_time = 1)),
  lf_case("1:2 allocation, all enter at once (R 0), follow-up 2, HR 1.5 (harm)",
          0.4, 1.5, 0.5, 0, 2, 0, 0.025, 1, 0.8,
          list(hazards_control = 0.4, hr = 1.5, alpha = 0.025, sides = 1, power = 0.8,
               ratio = 0.5, accrual_time = 0, follow_up = 2)),
  lakatos_case("ACCRU-BR-1801 ER+, proportional hazards, b = 12 per month", 0, lam12,
               lam12 * 0.5, 1, 12, 12, 0, 0, 0, 0, 12, 0.1, 1, 0.9,
               c(accru1, list(intervals_per_unit = 12))),
  lakatos_case("ACCRU-BR-1801 ER-, proportional hazards, b = 40 per month", 0, lam6,
               lam6 * 0.5, 1, 12, 12, 0, 0, 0, 0, 40, 0.1, 1, 0.85,
               c(accru2, list(intervals_per_unit = 40))),
  lakatos_case("PALMIRA-like 2:1 with dropout, b = 12", 0, log(2) / 6, 0.59 * log(2) / 6, 2,
               24, 12, eta5, eta5, 0, 0, 12, 0.05, 2, 0.8,
               c(palmira, list(intervals_per_unit = 12))),
  lakatos_case("delayed effect: HR 1 for 6 months then 0.6, R 12, follow-up 18, b 4",
               c(0, 6), c(0.1, 0.1), c(0.1, 0.06), 1, 12, 18, c(0, 0), c(0, 0), c(0, 0),
               c(0, 0), 4, 0.05, 2, 0.8,
               list(hazards_control = c(0.1, 0.1), hazards_experimental = c(0.1, 0.06),
                    starts = c(0, 6), alpha = 0.05, sides = 2, power = 0.8,
                    accrual_time = 12, follow_up = 18, intervals_per_unit = 4)),
  lakatos_case("noncompliance, drop-in and dropout by period and arm, 3:2, b 6",
               c(0, 12), c(0.05, 0.08), c(0.035, 0.056), 1.5, 18, 24, c(0.01, 0.02),
               c(0.015, 0.015), c(0.02, 0.01), c(0.005, 0.01), 6, 0.025, 1, 0.9,
               list(hazards_control = c(0.05, 0.08), hazards_experimental = c(0.035, 0.056),
                    starts = c(0, 12), ratio = 1.5, alpha = 0.025, sides = 1, power = 0.9,
                    accrual_time = 18, follow_up = 24, dropout_control = c(0.01, 0.02),
                    dropout_experimental = c(0.015, 0.015), noncompliance = c(0.02, 0.01),
                    drop_in = c(0.005, 0.01), intervals_per_unit = 6)),
  lakatos_case("all enter at once (R 0), follow-up 3, HR 0.7, noncompliance 0.1, b 10", 0,
               0.5, 0.35, 1, 0, 3, 0, 0, 0.1, 0, 10, 0.05, 2, 0.9,
               list(hazards_control = 0.5, hr = 0.7, alpha = 0.05, sides = 2, power = 0.9,
                    accrual_time = 0, follow_up = 3, noncompliance = 0.1,
                    intervals_per_unit = 10)),
  rpact_case("PALMIRA-like, Schoenfeld events / P(event), 2:1, dropout",
             c(palmira, list(method = "schoenfeld")),
             list(hazardRatio = 0.59, median2 = 6, accrualTime = c(0, 24), followUpTime = 12,
                  dropoutRate1 = 0.05, dropoutRate2 = 0.05, dropoutTime = 12)),
  rpact_case("PALMIRA-like, Freedman events / P(event), 2:1, dropout",
             c(palmira, list(method = "freedman")),
             list(hazardRatio = 0.59, median2 = 6, accrualTime = c(0, 24), followUpTime = 12,
                  dropoutRate1 = 0.05, dropoutRate2 = 0.05, dropoutTime = 12))
)

doc <- list(
  source = paste0("Lachin & Foulkes (1986) eq. 2.4/4.1 and Lakatos (1988) eq. 6 written in base ",
                  R.version.string, "; rpact ", packageVersion("rpact"),
                  " getSampleSizeSurvival for events-first"),
  generated_by = "tests/conformance/r/patients_methods.R",
  cases = cases)
writeLines(toJSON(doc, auto_unbox = TRUE, digits = NA, pretty = TRUE),
           "src/oncotrial/validation/references/patients_methods_r.json")
cat("wrote", length(cases), "cases\n")
