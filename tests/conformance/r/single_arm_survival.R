# Reference values for oncotrial.design.single_arm, computed in R (base stats only).
#
# Run from the repository root:   Rscript tests/conformance/r/single_arm_survival.R
# Writes src/oncotrial/validation/references/single_arm_survival_r.json (committed; CI needs no R).
#
# Written here from the papers, independently of oncotrial's Python code:
#   exponential_normal  d = (z_a + z_b)^2 / log(hr)^2 events; n = d / P(event), with the
#                       closed-form exponential event probability under uniform accrual
#                       P = 1 - (exp(-l tf) - exp(-l (ta + tf))) / (l ta)   (Lawless 2003)
#   exponential_exact   smallest d with pchisq(qchisq(1 - a, 2d) * hr, 2d, lower = FALSE) >= power
#                       (2 lambda T ~ chi-square(2d); Epstein & Sobel 1953)
#   one_sample_logrank  Wu (2015, Pharm Stat 14:26-33) p0, p1, p00, p01 by integrate()
#   km_landmark         Nagashima et al. (2021, Pharm Stat 20:499-511); KM variance of
#                       Fleming & Harrington (1991) Ex. 6.3.1, closed form before the follow-up
#                       kink and integrate() after it
suppressPackageStartupMessages(library(jsonlite))

cases <- list()
add <- function(name, input, expected, tolerance = list(rel = 1e-6)) {
  cases[[length(cases) + 1]] <<- list(kind = "single_arm_survival", name = name, input = input,
                                       expected = expected, tolerance = tolerance)
}

za_of <- function(alpha, sides) qnorm(1 - alpha / sides)

p_event_exp <- function(lam, ta, tf) {
  if (ta == 0) return(1 - exp(-lam * tf))
  1 - (exp(-lam * tf) - exp(-lam * (ta + tf))) / (lam * ta)
}

# Weibull with median m and shape k
H <- function(t, m, k) log(2) * (t / m)^k
h <- function(t, m, k) k * log(2) * t^(k - 1) / m^k
G <- function(u, ta, tf) ifelse(u <= tf, 1, pmax(0, (ta + tf - u) / ta))

wu_terms <- function(m0, m1, ta, tf, k) {
  tau <- ta + tf
  f0 <- function(t) exp(-H(t, m1, k)) * h(t, m0, k)
  f00 <- function(t) exp(-H(t, m1, k)) * H(t, m0, k) * h(t, m0, k)
  p0 <- integrate(f0, 0, tf, rel.tol = 1e-12)$value +
        integrate(function(t) (tau - t) / ta * f0(t), tf, tau, rel.tol = 1e-12)$value
  p00 <- integrate(f00, 0, tf, rel.tol = 1e-12)$value +
         integrate(function(t) (tau - t) / ta * f00(t), tf, tau, rel.tol = 1e-12)$value
  delta <- (m0 / m1)^k
  p1 <- delta * p0; p01 <- delta * p00
  sigma <- sqrt(p1 - p1^2 + 2 * p00 - p0^2 - 2 * p01 + 2 * p0 * p1)
  list(p0 = p0, p1 = p1, sigma = sigma)
}

km_var <- function(t, m, ta, tf) {   # exponential only
  lam <- log(2) / m
  first <- exp(lam * min(t, tf)) - 1
  second <- if (t > tf) integrate(function(u) lam * exp(lam * u) * ta / (ta + tf - u), tf, t,
                                  rel.tol = 1e-12)$value else 0
  exp(-2 * lam * t) * (first + second)
}

g_of <- function(s, tr) switch(tr, identity = c(s, 1), log = c(log(s), 1 / s),
  loglog = c(log(-log(s)), 1 / (s * log(s))), logit = c(log(s / (1 - s)), 1 / (s * (1 - s))),
  arcsine = c(asin(sqrt(s)), 0.5 / sqrt(s * (1 - s))))

design <- function(m0, m1, ta, tf, alpha, power, sides, method, k = 1, landmark = NULL,
                   transform = NULL, variance = "null_alt") {
  za <- za_of(alpha, sides); zb <- qnorm(power)
  hr <- (m0 / m1)^k
  pev <- p_event_exp(log(2) / m1, ta, tf)
  if (method == "exponential_normal") {
    n_exact <- (za + zb)^2 / log(hr)^2 / pev
    pw <- function(n) pnorm(sqrt(n * pev) * abs(log(hr)) - za)
  } else if (method == "exponential_exact") {
    a <- alpha / sides
    epow <- function(d) if (hr < 1) pchisq(qchisq(1 - a, 2 * d) * hr, 2 * d, lower.tail = FALSE)
                        else pchisq(qchisq(a, 2 * d) * hr, 2 * d)
    d <- 1
    while (epow(d) < power) d <- d + 1
    n_exact <- d / pev
    pw <- function(n) epow(floor(n * pev + 1e-9))
  } else if (method == "one_sample_logrank") {
    w <- wu_terms(m0, m1, ta, tf, k)
    n_exact <- (sqrt(w$p0) * za + w$sigma * zb)^2 / (w$p1 - w$p0)^2
    pw <- function(n) pnorm((sqrt(n) * abs(w$p1 - w$p0) - sqrt(w$p0) * za) / w$sigma)
  } else {
    s0 <- exp(-log(2) * landmark / m0); s1 <- exp(-log(2) * landmark / m1)
    g0 <- g_of(s0, transform); g1 <- g_of(s1, transform)
    sd0 <- abs(g0[2]) * sqrt(km_var(landmark, m0, ta, tf))
    sd1 <- abs(g1[2]) * sqrt(km_var(landmark, m1, ta, tf))
    eff <- abs(g1[1] - g0[1])
    if (variance == "null") {
      n_exact <- ((za + zb) * sd0 / eff)^2
      pw <- function(n) pnorm(sqrt(n) * eff / sd0 - za)
    } else {
      n_exact <- ((za * sd0 + zb * sd1) / eff)^2
      pw <- function(n) pnorm((sqrt(n) * eff - za * sd0) / sd1)
    }
  }
  n <- ceiling(n_exact - 1e-9)
  list(n_exact = n_exact, n = n, achieved_power = pw(n))
}

scenarios <- list(
  list(name = "seed 000: median 3 -> 5, accrual 24, follow-up 12, 2-sided 5%, 80%",
       m0 = 3, m1 = 5, ta = 24, tf = 12, alpha = 0.05, power = 0.8, sides = 2),
  list(name = "median 6 -> 9, accrual 18, follow-up 12, 1-sided 5%, 90%",
       m0 = 6, m1 = 9, ta = 18, tf = 12, alpha = 0.05, power = 0.9, sides = 1),
  list(name = "median 12 -> 8 (harm), accrual 30, follow-up 6, 2-sided 10%, 80%",
       m0 = 12, m1 = 8, ta = 30, tf = 6, alpha = 0.10, power = 0.8, sides = 2))

for (sc in scenarios) {
  for (method in c("exponential_normal", "exponential_exact", "one_sample_logrank")) {
    r <- design(sc$m0, sc$m1, sc$ta, sc$tf, sc$alpha, sc$power, sc$sides, method)
    add(sprintf("%s, %s", method, sc$name),
        list(median0 = sc$m0, median1 = sc$m1, accrual = sc$ta, follow_up = sc$tf,
             alpha = sc$alpha, power = sc$power, sides = sc$sides, method = method),
        r)
  }
  for (landmark in c(sc$m0, 2 * sc$m0, sc$tf, sc$tf + sc$ta / 4)) {
    for (transform in c("identity", "log", "loglog", "logit", "arcsine")) {
      for (variance in c("null_alt", "null")) {
        r <- design(sc$m0, sc$m1, sc$ta, sc$tf, sc$alpha, sc$power, sc$sides, "km_landmark",
                    landmark = landmark, transform = transform, variance = variance)
        add(sprintf("km_landmark t=%g %s %s, %s", landmark, transform, variance, sc$name),
            list(median0 = sc$m0, median1 = sc$m1, accrual = sc$ta, follow_up = sc$tf,
                 alpha = sc$alpha, power = sc$power, sides = sc$sides, method = "km_landmark",
                 landmark = landmark, transform = transform, variance = variance),
            r)
      }
    }
  }
}

# Weibull one-sample log-rank (Wu 2015 allows a common shape k)
for (k in c(0.8, 1.22, 1.5)) {
  r <- design(9, 9 * 1.75^(1 / k), 5, 3, 0.05, 0.8, 1, "one_sample_logrank", k = k)
  add(sprintf("one_sample_logrank Weibull k=%g, median 9, hr 1/1.75, accrual 5, follow-up 3", k),
      list(median0 = 9, median1 = 9 * 1.75^(1 / k), accrual = 5, follow_up = 3, alpha = 0.05,
           power = 0.8, sides = 1, method = "one_sample_logrank", shape = k),
      r)
}

doc <- list(
  source = sprintf("%s; stats (qnorm, pchisq, qchisq, integrate); formulas written in R from Lawless 2003, Wu 2015 and Nagashima et al. 2021",
                   R.version.string),
  generated_by = "tests/conformance/r/single_arm_survival.R",
  cases = cases)
out <- "src/oncotrial/validation/references/single_arm_survival_r.json"
writeLines(toJSON(doc, auto_unbox = TRUE, digits = NA, na = "string", pretty = TRUE), out)
cat(sprintf("wrote %d cases to %s\n", length(cases), out))
