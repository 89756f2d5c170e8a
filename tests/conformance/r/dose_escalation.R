# Reference values for oncotrial.design.dose (A+B / 3+3 exact OCs, BOIN boundaries and table).
#
# Run from the repository root:   Rscript tests/conformance/r/dose_escalation.R
# Writes src/oncotrial/validation/references/dose_r.json (committed; CI needs no R).
#
# Closed forms written here from Lin & Shih (2001, Biostatistics 2:203-215), independent of the
# state enumeration in oncotrial: per dose k, q0 = P(X1 < C), q1 = P(C <= X1 <= D, X1+X2 <= E),
# r = P(X1 < C, X1 + X2 <= E) (a stage-1 pass confirmed by B more), f = 1 - q0 - q1.
#   without de-escalation: P(MTD = i) = prod_{k<=i}(q0+q1) * f_{i+1}; P(MTD = K) = prod(q0+q1);
#     E[patients at k] = prod_{j<k}(q0_j + q1_j) * (A + B * P(C <= X1 <= D))
#   with de-escalation: P(MTD = i) = sum_{j>i} prod_{k<i}(q0+q1) (q1_i + r_i)
#     prod_{i<k<j}(q0_k - r_k) * fail_j, with fail_j = f_j for j < K and f_K + q0_K - r_K,
#     and P(MTD = K) = prod_{k<K}(q0+q1) (q1_K + r_K)
# BOIN (Liu & Yuan 2015, JRSS-C 64:507-523) boundaries by their closed form; elimination by
# pbeta(target, 1 + x, 1 + n - x, lower.tail = FALSE) > 0.95.
suppressPackageStartupMessages(library(jsonlite))

cases <- list()
add <- function(kind, name, input, expected, tolerance = list(rel = 1e-9, abs = 1e-14)) {
  cases[[length(cases) + 1]] <<- list(kind = kind, name = name, input = input,
                                       expected = expected, tolerance = tolerance)
}

ab_terms <- function(p, A, B, C, D, E) {
  q0 <- pbinom(C - 1, A, p)
  q1 <- 0; r <- 0
  for (x1 in 0:A) {
    if (x1 >= C && x1 <= D) q1 <- q1 + dbinom(x1, A, p) * pbinom(E - x1, B, p)
    if (x1 < C) r <- r + dbinom(x1, A, p) * pbinom(E - x1, B, p)
  }
  pmid <- if (D >= C) sum(dbinom(C:D, A, p)) else 0
  list(q0 = q0, q1 = q1, r = r, f = 1 - q0 - q1, pmid = pmid)
}

oc_no_deesc <- function(p, A, B, C, D, E) {
  K <- length(p); t <- lapply(p, ab_terms, A = A, B = B, C = C, D = D, E = E)
  pass <- sapply(t, function(z) z$q0 + z$q1); reach <- c(1, cumprod(pass))
  pm <- numeric(K + 1)
  for (i in 0:(K - 1)) pm[i + 1] <- reach[i + 1] * (1 - pass[i + 1])
  pm[K + 1] <- reach[K + 1]
  ep <- sapply(1:K, function(k) reach[k] * (A + B * t[[k]]$pmid))
  list(p_mtd = pm, expected_patients = ep, p_pass = pass)
}

oc_deesc <- function(p, A, B, C, D, E) {
  K <- length(p); t <- lapply(p, ab_terms, A = A, B = B, C = C, D = D, E = E)
  q0 <- sapply(t, `[[`, "q0"); q1 <- sapply(t, `[[`, "q1"); r <- sapply(t, `[[`, "r")
  f <- sapply(t, `[[`, "f")
  fail <- f; fail[K] <- f[K] + q0[K] - r[K]
  pass <- q0 + q1
  below <- function(i) if (i <= 1) 1 else prod(pass[1:(i - 1)])
  pm <- numeric(K + 1)
  for (i in 1:K) {
    if (i == K) { pm[K + 1] <- below(K) * (q1[K] + r[K]); next }
    s <- 0
    for (j in (i + 1):K) {
      mid <- if (j - 1 >= i + 1) prod(q0[(i + 1):(j - 1)] - r[(i + 1):(j - 1)]) else 1
      s <- s + below(i) * (q1[i] + r[i]) * mid * fail[j]
    }
    pm[i + 1] <- s
  }
  pm[1] <- 0
  for (j in 1:K) {
    mid <- if (j >= 2) prod(q0[1:(j - 1)] - r[1:(j - 1)]) else 1
    pm[1] <- pm[1] + mid * fail[j]
  }
  list(p_mtd = pm, p_pass = pass)
}

scen <- list(c(0.05, 0.10, 0.20, 0.35, 0.50), c(0.30, 0.45, 0.60), c(0.01, 0.02, 0.05, 0.08),
             c(0.10, 0.25, 0.40), c(0.5, 0.6, 0.7))
rules <- list(c(3, 3, 1, 1, 1), c(3, 3, 1, 2, 2), c(4, 4, 1, 2, 2), c(3, 3, 2, 2, 2))
for (p in scen) for (g in rules) {
  nm <- sprintf("A+B %d+%d C=%d D=%d E=%d, DLT rates %s", g[1], g[2], g[3], g[4], g[5],
                paste(p, collapse = "/"))
  inp <- list(dlt_rates = p, a = g[1], b = g[2], c = g[3], d = g[4], e = g[5])
  add("a_plus_b_oc", paste(nm, "without de-escalation"), c(inp, deescalation = FALSE),
      oc_no_deesc(p, g[1], g[2], g[3], g[4], g[5]))
  add("a_plus_b_oc", paste(nm, "with de-escalation"), c(inp, deescalation = TRUE),
      oc_deesc(p, g[1], g[2], g[3], g[4], g[5]))
}

for (target in c(0.15, 0.20, 0.25, 0.30, 0.33, 0.35, 0.40)) {
  phi1 <- 0.6 * target; phi2 <- 1.4 * target
  le <- log((1 - phi1) / (1 - target)) / log(target * (1 - phi1) / (phi1 * (1 - target)))
  ld <- log((1 - target) / (1 - phi2)) / log(phi2 * (1 - target) / (target * (1 - phi2)))
  ns <- 1:18
  elim <- sapply(ns, function(n) {
    x <- which(sapply(0:n, function(x) n >= 3 &&
      pbeta(target, 1 + x, 1 + n - x, lower.tail = FALSE) > 0.95))
    if (length(x)) x[1] - 1 else NA
  })
  add("boin_table", sprintf("BOIN target %g", target), list(target = target, max_n = 18),
      list(lambda_e = le, lambda_d = ld, escalate = floor(ns * le + 1e-12),
           deescalate = ceiling(ns * ld - 1e-12), eliminate = elim))
}

doc <- list(
  source = sprintf("%s; stats (dbinom, pbinom, pbeta); Lin & Shih 2001 closed forms and Liu & Yuan 2015 boundaries written in base R",
                   R.version.string),
  generated_by = "tests/conformance/r/dose_escalation.R",
  cases = cases)
out <- "src/oncotrial/validation/references/dose_r.json"
writeLines(toJSON(doc, auto_unbox = TRUE, digits = NA, na = NULL, pretty = TRUE), out)
cat(sprintf("wrote %d cases to %s\n", length(cases), out))
