# Reference values for oncotrial.stats.logistic.adjusted_odds_ratio, computed in R.
#
# Run from the repository root:   Rscript tests/conformance/r/logistic.R
# Writes src/oncotrial/validation/references/logistic_r.json (committed; CI needs no R).
#
# Source: base R stats::glm(family = binomial) on subject-level data, epsilon 1e-13, refitted
# once from its own estimate; Wald CIs by confint.default, p from summary()$coefficients.
# Factors use R's default treatment contrasts (first level, in C-locale sorted order, is the
# reference). The data of every case is written into the case (CI needs no R).
#   birthwt: MASS::birthwt (Hosmer & Lemeshow), low ~ smoke + age + lwt + race + ht
#   trial:   a simulated two-arm trial (set.seed(20240601)), response ~ arm + age + ecog +
#            strata(visceral, prior)
#   arm only / strata only: the unadjusted and the stratified model on the same data

suppressPackageStartupMessages({library(jsonlite); library(MASS)})
invisible(Sys.setlocale("LC_COLLATE", "C"))

cases <- list()
add <- function(name, data, input, fit, arm_term) {
  ci <- confint.default(fit, level = input$conf_level)
  co <- summary(fit)$coefficients
  terms <- lapply(rownames(co), function(r) list(
    coef = co[r, 1], se = co[r, 2], lower = exp(ci[r, 1]), upper = exp(ci[r, 2]),
    p_value = co[r, 4]))
  expected <- list(estimate = exp(co[arm_term, 1]), lower = exp(ci[arm_term, 1]),
                   upper = exp(ci[arm_term, 2]), p_value = co[arm_term, 4],
                   coef = unname(co[, 1]), se = unname(co[, 2]), term_p = unname(co[, 4]))
  input$data <- as.list(data)
  cases[[length(cases) + 1]] <<- list(kind = "adjusted_odds_ratio", name = name,
                                      input = input, expected = expected,
                                      tolerance = list(rel = 1e-6, abs = 1e-10))
}

glm_tight <- function(formula, data) {
  ctl <- glm.control(epsilon = 1e-13, maxit = 100)
  fit <- glm(formula, family = binomial, data = data, control = ctl)
  fit <- glm(formula, family = binomial, data = data, control = ctl, start = coef(fit))
  stopifnot(fit$converged)
  fit
}

# ------------------------------------------------------------------ MASS::birthwt
bw <- data.frame(low = birthwt$low,
                 smoke = ifelse(birthwt$smoke == 1, "smoker", "nonsmoker"),
                 age = birthwt$age, lwt = birthwt$lwt,
                 race = c("1white", "2black", "3other")[birthwt$race],
                 ht = birthwt$ht)
bwf <- transform(bw, smoke = factor(smoke), race = factor(race), ht = factor(ht))
for (conf in c(0.95, 0.90)) {
  fit <- glm_tight(low ~ smoke + age + lwt + race + ht, bwf)
  add(sprintf("birthwt low ~ smoke + age + lwt + race + ht (conf %g)", conf), bw,
      list(response = "low", arm = "smoke", covariates = c("age", "lwt", "race"),
           strata = list("ht"), conf_level = conf),
      fit, "smokesmoker")
}
fit <- glm_tight(low ~ smoke, bwf)
add("birthwt low ~ smoke (unadjusted)", bw,
    list(response = "low", arm = "smoke", covariates = list(), strata = list(),
         conf_level = 0.95), fit, "smokesmoker")

# ------------------------------------------------------------------ simulated trial
set.seed(20240601)
n <- 240
trial <- data.frame(arm = sample(c("control", "experimental"), n, replace = TRUE),
                    age = round(rnorm(n, 58, 10)),
                    ecog = sample(c("0", "1", "2"), n, replace = TRUE, prob = c(.5, .4, .1)),
                    visceral = sample(c("no", "yes"), n, replace = TRUE),
                    prior = sample(c("ai", "fulvestrant", "none"), n, replace = TRUE))
lp <- -0.8 + 0.7 * (trial$arm == "experimental") - 0.02 * (trial$age - 58) -
  0.5 * (trial$ecog != "0") - 0.4 * (trial$visceral == "yes")
trial$response <- rbinom(n, 1, plogis(lp))
tf <- transform(trial, arm = factor(arm), ecog = factor(ecog), visceral = factor(visceral),
                prior = factor(prior))
fit <- glm_tight(response ~ arm + age + ecog + visceral + prior, tf)
add("trial response ~ arm + age + ecog + strata(visceral, prior)", trial,
    list(response = "response", arm = "arm", covariates = c("age", "ecog"),
         strata = c("visceral", "prior"), conf_level = 0.95), fit, "armexperimental")
fit <- glm_tight(response ~ arm + visceral + prior, tf)
add("trial response ~ arm + strata(visceral, prior)", trial,
    list(response = "response", arm = "arm", covariates = list(),
         strata = c("visceral", "prior"), conf_level = 0.95), fit, "armexperimental")

doc <- list(
  source = sprintf("%s; stats::glm(binomial), confint.default; MASS %s (birthwt)",
                   R.version.string, packageVersion("MASS")),
  generated_by = "tests/conformance/r/logistic.R",
  cases = cases)
out <- "src/oncotrial/validation/references/logistic_r.json"
writeLines(toJSON(doc, auto_unbox = TRUE, digits = NA, na = "string", pretty = TRUE), out)
cat(sprintf("wrote %d cases to %s\n", length(cases), out))
