# Reference values for the rates fitted by oncotrial event prediction
# (oncotrial.simulate.predict_rates.fit_hazards): exponential hazards per arm and pooled from
# survreg(dist = "exponential") (hazard = exp(-intercept)), and piecewise-exponential hazards
# per arm and piece from the Poisson GLM with log time-at-risk offset on data split at the
# cuts by survSplit (the piecewise-exponential MLE). Data: the shipped interim snapshot
# src/oncotrial/data/examples/palmira_interim_pfs.csv; time on study in days is
# ADT - RANDDT + 1 (ADaM AVAL), event = STATUS "event"; rates are reported per month
# (x 30.4375) with cuts given in months.
# Run from the repository root:  Rscript tests/conformance/r/simulate_predict_rates.R
suppressMessages({library(survival); library(jsonlite)})
DPM <- 30.4375
FILE <- "src/oncotrial/data/examples/palmira_interim_pfs.csv"
d <- read.csv(FILE, stringsAsFactors = FALSE)
d$time <- as.numeric(as.Date(d$ADT) - as.Date(d$RANDDT)) + 1
d$event <- as.integer(d$STATUS == "event")

exp_rate <- function(dd) {
  fit <- survreg(Surv(time, event) ~ 1, data = dd, dist = "exponential")
  exp(-unname(coef(fit)[1])) * DPM
}

piecewise <- function(dd, cuts_months, pooled) {
  s <- survSplit(Surv(time, event) ~ ARM, data = dd, cut = cuts_months * DPM, episode = "piece")
  s$risk <- s$time - s$tstart
  rows <- list()
  groups <- if (pooled) list("all arms" = rep(TRUE, nrow(s))) else
    setNames(lapply(sort(unique(s$ARM)), function(a) s$ARM == a), sort(unique(s$ARM)))
  for (g in names(groups)) {
    sg <- s[groups[[g]], ]
    fit <- glm(event ~ 0 + factor(piece) + offset(log(risk)), family = poisson, data = sg)
    rows[[g]] <- unname(exp(coef(fit))) * DPM
  }
  rows
}

arms <- sort(unique(d$ARM))
cases <- list(
  list(name = "exponential per arm", cuts = list(), pooled = FALSE,
       per_month = setNames(lapply(arms, function(a) exp_rate(d[d$ARM == a, ])), arms)),
  list(name = "exponential pooled", cuts = list(), pooled = TRUE,
       per_month = list("all arms" = exp_rate(d))),
  list(name = "piecewise per arm, cut at 3 months", cuts = list(3), pooled = FALSE,
       per_month = piecewise(d, 3, FALSE)),
  list(name = "piecewise pooled, cuts at 2 and 6 months", cuts = list(2, 6), pooled = TRUE,
       per_month = piecewise(d, c(2, 6), TRUE))
)
out <- list(
  source = sprintf("%s; survival %s", R.version.string, packageVersion("survival")),
  generated_by = "tests/conformance/r/simulate_predict_rates.R",
  file = FILE,
  cases = cases
)
write(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE),
      "tests/conformance/simulate_predict_rates_r.json")
