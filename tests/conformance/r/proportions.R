# Reference values for oncotrial.stats.proportions, computed in R.
#
# Run from the repository root:   Rscript tests/conformance/r/proportions.R
# Writes src/oncotrial/validation/references/proportions_r.json (committed; CI needs no R).
#
# Sources, all base R (stats) unless said otherwise:
#   proportion_ci   clopper-pearson: binom.test()$conf.int
#                   wilson / wilson-cc: prop.test(correct = FALSE / TRUE)$conf.int
#                   jeffreys: qbeta(., x + 1/2, n - x + 1/2), 0 at x = 0 and 1 at x = n
#                     (Brown, Cai & DasGupta 2001, Stat Sci 16:101-133)
#   binomial_test   binom.test()$p.value
#   risk_difference newcombe: Wilson limits from prop.test(correct = FALSE), square-and-add
#                     (Newcombe 1998, Stat Med 17:873-890, method 10)
#                   newcombe-cc: Newcombe's closed form for the continuity-corrected single
#                     limits (Newcombe 1998, Stat Med 17:857-872, method 4), square-and-add (method 11)
#                   miettinen-nurminen / mee: score-test inversion written here from
#                     Miettinen & Nurminen (1985, Stat Med 4:213-226) and Mee (1984, Biometrics
#                     40:1175-1176). Independent of oncotrial's closed-form cubic solution: the
#                     restricted MLE is found numerically as the root of the profile score
#                     equation, and the limits by uniroot.
#   odds_ratio      exact: p-value from fisher.test(); estimate and CI by the fisher.test
#                     algorithm (conditional MLE, inverted noncentral hypergeometric tails) with
#                     uniroot at tol 1e-15 on log(OR) instead of fisher.test's default 1.2e-4,
#                     and checked against fisher.test() to 1e-3
#                   wald: glm(binomial) on one binary covariate, confint.default(); Haldane
#                     cases by the closed formula with 1/2 added to every cell
#   mantel_haenszel mantelhaen.test(correct = TRUE / FALSE)
#   logistic_odds_ratio glm(cbind(x, n - x) ~ arm + factor(stratum), binomial), epsilon 1e-13,
#                     refitted once from its own estimate (see glm_tight)

suppressPackageStartupMessages(library(jsonlite))

rel_tol <- 1e-6
cases <- list()
add <- function(kind, name, input, expected, tolerance = list(rel = rel_tol)) {
  cases[[length(cases) + 1]] <<- list(kind = kind, name = name, input = input,
                                       expected = expected, tolerance = tolerance)
}

# ------------------------------------------------------------------ one sample

# prop.test warns "Chi-squared approximation may be incorrect" for small counts; the interval
# is still the Wilson interval, which is what is recorded
prop_ci <- function(x, n, conf, correct) {
  as.numeric(suppressWarnings(prop.test(x, n, conf.level = conf, correct = correct))$conf.int)
}

jeffreys <- function(x, n, conf) {
  a <- (1 - conf) / 2
  c(if (x == 0) 0 else qbeta(a, x + 0.5, n - x + 0.5),
    if (x == n) 1 else qbeta(1 - a, x + 0.5, n - x + 0.5))
}

one_sample <- list(c(0, 10), c(10, 10), c(0, 1), c(1, 1), c(6, 136), c(1, 62), c(57, 136),
                   c(17, 62), c(6, 94), c(1, 44), c(5, 10), c(50, 100), c(3, 7), c(499, 1000),
                   c(0, 200), c(200, 200), c(13, 27), c(1, 2))
for (xn in one_sample) {
  x <- xn[1]; n <- xn[2]
  for (conf in c(0.95, 0.90, 0.99)) {
    if (conf != 0.95 && !(x %in% c(0, 13, 6))) next
    lim <- list(
      "clopper-pearson" = as.numeric(binom.test(x, n, conf.level = conf)$conf.int),
      "wilson" = prop_ci(x, n, conf, FALSE),
      "wilson-cc" = prop_ci(x, n, conf, TRUE),
      "jeffreys" = jeffreys(x, n, conf))
    for (m in names(lim)) {
      add("proportion_ci", sprintf("%s %d/%d conf %.2f", m, x, n, conf),
          list(x = x, n = n, method = m, conf_level = conf),
          list(estimate = x / n, lower = lim[[m]][1], upper = lim[[m]][2]))
    }
  }
}

binom_cases <- list(list(6, 136, 0.1, "two.sided"), list(0, 10, 0.5, "two.sided"),
                    list(10, 10, 0.5, "two.sided"), list(3, 7, 0.3, "two.sided"),
                    list(57, 136, 0.3, "two.sided"), list(17, 62, 0.25, "two.sided"),
                    list(17, 62, 0.25, "less"), list(17, 62, 0.25, "greater"),
                    list(5, 10, 0.5, "two.sided"), list(682, 925, 0.75, "two.sided"),
                    list(1, 62, 0.05, "two.sided"), list(1, 62, 0.05, "greater"),
                    list(0, 30, 0.2, "two.sided"), list(30, 30, 0.9, "two.sided"),
                    list(7, 20, 0.35, "two.sided"), list(12, 40, 0.5, "less"))
for (b in binom_cases) {
  alt <- gsub(".", "-", b[[4]], fixed = TRUE)
  add("binomial_test", sprintf("binom.test %d/%d p0 %g %s", b[[1]], b[[2]], b[[3]], alt),
      list(x = b[[1]], n = b[[2]], p0 = b[[3]], alternative = alt),
      list(p_value = binom.test(b[[1]], b[[2]], b[[3]], alternative = b[[4]])$p.value),
      list(rel = rel_tol, abs = 1e-12))
}

# ------------------------------------------------------------------ differences

wilson <- function(x, n, conf) prop_ci(x, n, conf, FALSE)

wilson_cc_newcombe <- function(x, n, conf) {
  z <- qnorm(1 - (1 - conf) / 2); p <- x / n
  lo <- if (x == 0) 0 else
    (2 * n * p + z^2 - 1 - z * sqrt(z^2 - 2 - 1 / n + 4 * p * (n * (1 - p) + 1))) / (2 * (n + z^2))
  hi <- if (x == n) 1 else
    (2 * n * p + z^2 + 1 + z * sqrt(z^2 + 2 - 1 / n + 4 * p * (n * (1 - p) - 1))) / (2 * (n + z^2))
  c(max(0, lo), min(1, hi))
}

square_and_add <- function(x1, n1, x2, n2, limits) {
  p1 <- x1 / n1; p2 <- x2 / n2; l1 <- limits(x1, n1); l2 <- limits(x2, n2)
  c(p1 - p2 - sqrt((p1 - l1[1])^2 + (l2[2] - p2)^2),
    p1 - p2 + sqrt((l1[2] - p1)^2 + (p2 - l2[1])^2))
}

# restricted MLE of p2 under p1 = p2 + delta: root of the derivative of the log likelihood
restricted_p2 <- function(x1, n1, x2, n2, delta) {
  lo <- max(0, -delta); hi <- min(1, 1 - delta)
  score <- function(p2) {
    p1 <- p2 + delta
    (if (x1 > 0) x1 / p1 else 0) - (if (n1 - x1 > 0) (n1 - x1) / (1 - p1) else 0) +
      (if (x2 > 0) x2 / p2 else 0) - (if (n2 - x2 > 0) (n2 - x2) / (1 - p2) else 0)
  }
  e <- 1e-13 * (hi - lo)
  s_lo <- score(lo + e); s_hi <- score(hi - e)
  if (s_lo <= 0) return(lo)
  if (s_hi >= 0) return(hi)
  uniroot(score, c(lo + e, hi - e), tol = 1e-15, maxiter = 1000)$root
}

score_z <- function(x1, n1, x2, n2, delta, mn) {
  d <- x1 / n1 - x2 / n2 - delta
  if (d == 0) return(0)
  p2 <- restricted_p2(x1, n1, x2, n2, delta); p1 <- p2 + delta
  v <- p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2
  if (mn) v <- v * (n1 + n2) / (n1 + n2 - 1)
  d / sqrt(v)
}

score_ci <- function(x1, n1, x2, n2, conf, mn) {
  z <- qnorm(1 - (1 - conf) / 2); d <- x1 / n1 - x2 / n2; e <- 1e-10
  f_lo <- function(t) score_z(x1, n1, x2, n2, t, mn) - z
  f_hi <- function(t) score_z(x1, n1, x2, n2, t, mn) + z
  lower <- if (d <= -1 + e || f_lo(-1 + e) < 0) -1 else
    uniroot(f_lo, c(-1 + e, d), tol = 1e-15, maxiter = 1000)$root
  upper <- if (d >= 1 - e || f_hi(1 - e) > 0) 1 else
    uniroot(f_hi, c(d, 1 - e), tol = 1e-15, maxiter = 1000)$root
  c(lower, upper)
}

pairs <- list(c(56, 70, 48, 80), c(9, 10, 3, 10), c(6, 7, 2, 7), c(5, 56, 0, 29),
              c(0, 10, 0, 20), c(0, 10, 0, 10), c(10, 10, 0, 20), c(10, 10, 0, 10),
              c(57, 136, 17, 62), c(6, 136, 1, 62), c(84, 101, 89, 105), c(0, 15, 15, 15),
              c(1, 62, 6, 136), c(30, 60, 30, 60), c(2, 200, 9, 180))
for (p in pairs) {
  for (conf in c(0.95, 0.90)) {
    if (conf != 0.95 && !(p[1] %in% c(56, 57, 0))) next
    lim <- list(
      "newcombe" = square_and_add(p[1], p[2], p[3], p[4], function(x, n) wilson(x, n, conf)),
      "newcombe-cc" = square_and_add(p[1], p[2], p[3], p[4],
                                     function(x, n) wilson_cc_newcombe(x, n, conf)),
      "miettinen-nurminen" = score_ci(p[1], p[2], p[3], p[4], conf, TRUE),
      "mee" = score_ci(p[1], p[2], p[3], p[4], conf, FALSE))
    for (m in names(lim)) {
      add("risk_difference", sprintf("%s %d/%d - %d/%d conf %.2f", m, p[1], p[2], p[3], p[4], conf),
          list(x1 = p[1], n1 = p[2], x2 = p[3], n2 = p[4], method = m, conf_level = conf),
          list(estimate = p[1] / p[2] - p[3] / p[4], lower = lim[[m]][1], upper = lim[[m]][2]),
          list(rel = rel_tol, abs = 1e-9))
    }
  }
}

# ------------------------------------------------------------------ odds ratios

# fisher.test's own algorithm (R 4.x src/library/stats/R/fisher.test.R) at a tight tolerance
fisher_tight <- function(tab, conf) {
  m <- sum(tab[, 1]); n <- sum(tab[, 2]); k <- sum(tab[1, ]); x <- tab[1, 1]
  lo <- max(0, k - n); hi <- min(k, m); support <- lo:hi
  logdc <- dhyper(support, m, n, k, log = TRUE)
  dn <- function(lpsi) { d <- logdc + lpsi * support; d <- exp(d - max(d)); d / sum(d) }
  mean_at <- function(lpsi) sum(support * dn(lpsi))
  tail_at <- function(lpsi, upper) sum(dn(lpsi)[if (upper) support >= x else support <= x])
  solve <- function(f) uniroot(f, c(-60, 60), extendInt = "yes", tol = 1e-15, maxiter = 5000)$root
  alpha <- (1 - conf) / 2
  est <- if (x == lo) 0 else if (x == hi) Inf else exp(solve(function(t) mean_at(t) - x))
  lower <- if (x == lo) 0 else exp(solve(function(t) tail_at(t, TRUE) - alpha))
  upper <- if (x == hi) Inf else exp(solve(function(t) tail_at(t, FALSE) - alpha))
  c(est, lower, upper)
}

# fisher.test solves for the OR, or for 1/OR, on (0, 1) with uniroot's default tol 1.2e-4, so
# its large limits can be ~1% off; the tight values must agree with it to 2% on the log scale
close_or_same <- function(a, b) all((a == b) | abs(log(a) - log(b)) <= 0.02)

for (p in pairs) {
  tab <- matrix(c(p[1], p[2] - p[1], p[3], p[4] - p[3]), 2, byrow = TRUE)
  if (length(unique(c(max(0, p[2] - sum(tab[, 2])), min(p[2], sum(tab[, 1]))))) == 1) next
  for (conf in c(0.95, 0.90)) {
    if (conf != 0.95 && p[1] != 57) next
    ft <- fisher.test(tab, conf.level = conf)
    tight <- fisher_tight(tab, conf)
    stopifnot(close_or_same(tight, unname(c(ft$estimate, ft$conf.int))))
    add("odds_ratio", sprintf("exact %d/%d vs %d/%d conf %.2f", p[1], p[2], p[3], p[4], conf),
        list(x1 = p[1], n1 = p[2], x2 = p[3], n2 = p[4], method = "exact", conf_level = conf),
        list(estimate = tight[1], lower = tight[2], upper = tight[3], p_value = ft$p.value),
        list(rel = rel_tol, abs = 1e-12))
  }
}

# glm stops on a relative deviance change; the deviance is quadratic in the coefficient
# error, so a converged fit is refitted from its own coefficients: one more IRLS (Newton)
# step squares the remaining error
glm_tight <- function(formula, data) {
  ctl <- glm.control(epsilon = 1e-13, maxit = 100)
  fit <- glm(formula, family = binomial, data = data, control = ctl)
  fit <- glm(formula, family = binomial, data = data, control = ctl, start = coef(fit))
  stopifnot(fit$converged)
  fit
}

wald_glm <- function(x1, n1, x2, n2, conf) {
  d <- data.frame(s = c(x1, x2), f = c(n1 - x1, n2 - x2), arm = c(1, 0))
  fit <- glm_tight(cbind(s, f) ~ arm, d)
  ci <- confint.default(fit, "arm", level = conf)
  c(exp(coef(fit)[["arm"]]), exp(ci[1]), exp(ci[2]), summary(fit)$coefficients["arm", 4])
}
for (p in pairs) {
  cells <- c(p[1], p[2] - p[1], p[3], p[4] - p[3])
  if (any(cells == 0)) {
    h <- cells + 0.5; lor <- log(h[1] * h[4] / (h[2] * h[3])); se <- sqrt(sum(1 / h))
    z <- qnorm(0.975)
    add("odds_ratio", sprintf("wald haldane %d/%d vs %d/%d", p[1], p[2], p[3], p[4]),
        list(x1 = p[1], n1 = p[2], x2 = p[3], n2 = p[4], method = "wald", conf_level = 0.95,
             haldane = TRUE),
        list(estimate = exp(lor), lower = exp(lor - z * se), upper = exp(lor + z * se),
             p_value = 2 * pnorm(-abs(lor) / se)),
        list(rel = rel_tol, abs = 1e-12))
    next
  }
  r <- wald_glm(p[1], p[2], p[3], p[4], 0.95)
  add("odds_ratio", sprintf("wald %d/%d vs %d/%d", p[1], p[2], p[3], p[4]),
      list(x1 = p[1], n1 = p[2], x2 = p[3], n2 = p[4], method = "wald", conf_level = 0.95),
      list(estimate = r[1], lower = r[2], upper = r[3], p_value = r[4]),
      list(rel = rel_tol, abs = 1e-12))
}

# ------------------------------------------------------------------ stratified

strata_sets <- list(
  "PALMIRA-like 2 strata" = list(x1 = c(30, 27), n1 = c(70, 66), x2 = c(10, 7), n2 = c(32, 30)),
  "3 strata, one small" = list(x1 = c(12, 5, 1), n1 = c(40, 20, 4), x2 = c(6, 2, 1), n2 = c(38, 22, 5)),
  "4 strata, imbalanced" = list(x1 = c(20, 9, 14, 3), n1 = c(50, 30, 25, 12),
                                x2 = c(11, 10, 4, 2), n2 = c(48, 15, 27, 20)),
  "stratum with an empty arm" = list(x1 = c(8, 4, 3), n1 = c(20, 10, 6), x2 = c(3, 2, 0),
                                     n2 = c(18, 11, 0)))
# UCBAdmissions (R datasets): admitted vs rejected x male vs female, 6 departments
ucb <- UCBAdmissions
strata_sets[["UCBAdmissions"]] <- list(x1 = as.numeric(ucb[1, 1, ]), n1 = as.numeric(ucb[1, 1, ] + ucb[1, 2, ]),
                                       x2 = as.numeric(ucb[2, 1, ]), n2 = as.numeric(ucb[2, 1, ] + ucb[2, 2, ]))

for (nm in names(strata_sets)) {
  s <- strata_sets[[nm]]; K <- length(s$x1)
  tab <- array(0, c(2, 2, K))
  tab[1, 1, ] <- s$x1; tab[1, 2, ] <- s$n1 - s$x1; tab[2, 1, ] <- s$x2; tab[2, 2, ] <- s$n2 - s$x2
  for (correct in c(TRUE, FALSE)) {
    mh <- mantelhaen.test(tab, correct = correct)
    add("mantel_haenszel", sprintf("mantelhaen.test %s correct=%s", nm, correct),
        list(x1 = s$x1, n1 = s$n1, x2 = s$x2, n2 = s$n2, correct = correct, conf_level = 0.95),
        list(estimate = unname(mh$estimate), lower = mh$conf.int[1], upper = mh$conf.int[2],
             statistic = unname(mh$statistic), p_value = mh$p.value),
        list(rel = rel_tol, abs = 1e-12))
  }
  d <- data.frame(s = c(s$x1, s$x2), f = c(s$n1 - s$x1, s$n2 - s$x2), arm = rep(c(1, 0), each = K),
                  stratum = factor(rep(seq_len(K), 2)))
  d <- d[d$s + d$f > 0, ]
  fit <- glm_tight(cbind(s, f) ~ arm + stratum, d)
  ci <- confint.default(fit, "arm")
  add("logistic_odds_ratio", sprintf("glm arm + stratum, %s", nm),
      list(x1 = s$x1, n1 = s$n1, x2 = s$x2, n2 = s$n2, conf_level = 0.95),
      list(estimate = exp(coef(fit)[["arm"]]), lower = exp(ci[1]), upper = exp(ci[2]),
           p_value = summary(fit)$coefficients["arm", 4]),
      list(rel = rel_tol, abs = 1e-12))
}

doc <- list(
  source = sprintf("%s; stats (binom.test, prop.test, fisher.test, mantelhaen.test, glm); score intervals written in R from Newcombe 1998 and Miettinen & Nurminen 1985",
                   R.version.string),
  generated_by = "tests/conformance/r/proportions.R",
  cases = cases)
out <- "src/oncotrial/validation/references/proportions_r.json"
writeLines(toJSON(doc, auto_unbox = TRUE, digits = NA, na = "string", pretty = TRUE), out)
cat(sprintf("wrote %d cases to %s\n", length(cases), out))
