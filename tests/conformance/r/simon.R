# Reference values for oncotrial.design.binary (Simon two-stage, exact single stage, Fleming OCs).
#
# Run from the repository root:   Rscript tests/conformance/r/simon.R
# Writes src/oncotrial/validation/references/simon_r.json (committed; CI needs no R).
#
# clinfun (ph2simon) is not installed here, so the designs are found by a brute-force search
# written in base R directly from Simon (1989, Control Clin Trials 10:1-10): every n <= nmax,
# 1 <= n1 < n, 0 <= r1 < n1, r1 <= r <= n, with the type I error and power as explicit sums of
# dbinom() * pbinom() over stage-1 outcomes. The exact single-stage design (A'Hern 2001) is a
# scan over n and r with pbinom(). Fleming (1982) operating characteristics are computed by
# summing over every stage-by-stage path of responses (no recursion shared with oncotrial).
suppressPackageStartupMessages(library(jsonlite))

cases <- list()
add <- function(kind, name, input, expected, tolerance = list(rel = 1e-6)) {
  cases[[length(cases) + 1]] <<- list(kind = kind, name = name, input = input,
                                       expected = expected, tolerance = tolerance)
}

simon_search <- function(p0, p1, alpha, beta, nmax) {
  opt <- NULL; mm <- NULL
  for (n in 2:nmax) {
    best_n <- NULL
    for (n1 in 1:(n - 1)) {
      n2 <- n - n1
      for (r1 in 0:(n1 - 1)) {
        x1 <- (r1 + 1):n1
        rs <- r1:n
        size <- sapply(rs, function(r) sum(dbinom(x1, n1, p0) * pbinom(r - x1, n2, p0, lower.tail = FALSE)))
        ok <- which(size <= alpha)
        if (!length(ok)) next
        r <- rs[ok[1]]
        pw <- sum(dbinom(x1, n1, p1) * pbinom(r - x1, n2, p1, lower.tail = FALSE))
        if (pw < 1 - beta) next
        pet <- pbinom(r1, n1, p0)
        en0 <- n1 + (1 - pet) * n2
        d <- list(r1 = r1, n1 = n1, r = r, n = n, en0 = en0, pet0 = pet,
                  actual_alpha = size[ok[1]], actual_power = pw)
        if (is.null(best_n) || en0 < best_n$en0 - 1e-12) best_n <- d
      }
    }
    if (is.null(best_n)) next
    if (is.null(mm)) mm <- best_n
    if (is.null(opt) || best_n$en0 < opt$en0 - 1e-12) opt <- best_n
  }
  list(optimal = opt, minimax = mm)
}

grid <- list(
  c(0.05, 0.25, 0.10, 0.10), c(0.05, 0.25, 0.05, 0.20), c(0.05, 0.25, 0.05, 0.10),
  c(0.10, 0.30, 0.10, 0.10), c(0.10, 0.30, 0.05, 0.20), c(0.10, 0.30, 0.05, 0.10),
  c(0.20, 0.40, 0.10, 0.10), c(0.20, 0.40, 0.05, 0.20), c(0.20, 0.40, 0.05, 0.10),
  c(0.30, 0.50, 0.05, 0.20), c(0.40, 0.60, 0.05, 0.20), c(0.15, 0.35, 0.05, 0.20))
nmax <- 70
for (g in grid) {
  res <- simon_search(g[1], g[2], g[3], g[4], nmax)
  for (crit in c("optimal", "minimax")) {
    add("simon", sprintf("Simon %s p0=%g p1=%g alpha=%g beta=%g nmax=%d", crit, g[1], g[2], g[3], g[4], nmax),
        list(p0 = g[1], p1 = g[2], alpha = g[3], beta = g[4], nmax = nmax, criterion = crit),
        res[[crit]], list(rel = 1e-9))
  }
}

single <- function(p0, p1, alpha, beta) {
  for (n in 1:1000) {
    size <- pbinom(0:n, n, p0, lower.tail = FALSE)
    ok <- which(size <= alpha)
    if (!length(ok)) next
    r <- ok[1] - 1
    pw <- pbinom(r, n, p1, lower.tail = FALSE)
    if (pw >= 1 - beta) return(list(n = n, r = r, actual_alpha = size[ok[1]], actual_power = pw))
  }
}
for (g in list(c(0.05, 0.25, 0.05, 0.2), c(0.1, 0.3, 0.05, 0.2), c(0.2, 0.4, 0.05, 0.1),
               c(0.3, 0.5, 0.1, 0.1), c(0.6, 0.8, 0.025, 0.1))) {
  add("single_stage_binomial", sprintf("A'Hern p0=%g p1=%g alpha=%g beta=%g", g[1], g[2], g[3], g[4]),
      list(p0 = g[1], p1 = g[2], alpha = g[3], beta = g[4]), single(g[1], g[2], g[3], g[4]),
      list(rel = 1e-9))
}

# Fleming multistage: exact OCs of given boundaries by enumerating every response path
fleming_oc <- function(sizes, accept, reject, p) {
  K <- length(sizes); rej <- 0; stop <- numeric(K); en <- 0
  walk <- function(g, s, prob) {
    for (x in 0:sizes[g]) {
      pr <- prob * dbinom(x, sizes[g], p); t <- s + x
      if (t >= reject[g]) { rej <<- rej + pr; stop[g] <<- stop[g] + pr }
      else if (t <= accept[g]) stop[g] <<- stop[g] + pr
      else if (g < K) walk(g + 1, t, pr)
    }
  }
  walk(1, 0, 1)
  cum <- cumsum(sizes)
  en <- sum(cum * stop)
  list(reject = rej, en = en, stop = stop)
}
fleming_bounds <- function(p0, p1, alpha, sizes) {
  N <- sum(sizes); cum <- cumsum(sizes); za <- qnorm(1 - alpha)
  r <- floor(cum * p0 + za * sqrt(N * p0 * (1 - p0)) + 0.5) + 1
  a <- floor(cum * p1 - za * sqrt(N * p1 * (1 - p1)) + 0.5)
  a[length(a)] <- r[length(r)] - 1
  list(accept = a, reject = r)
}
for (g in list(list(0.2, 0.4, 0.05, 0.2, 3), list(0.1, 0.3, 0.05, 0.1, 2),
               list(0.05, 0.2, 0.1, 0.1, 3), list(0.3, 0.5, 0.05, 0.2, 4))) {
  p0 <- g[[1]]; p1 <- g[[2]]; alpha <- g[[3]]; beta <- g[[4]]; K <- g[[5]]
  za <- qnorm(1 - alpha); zb <- qnorm(1 - beta)
  N <- ceiling(((za * sqrt(p0 * (1 - p0)) + zb * sqrt(p1 * (1 - p1))) / (p1 - p0))^2)
  base <- N %/% K; extra <- N %% K
  sizes <- base + as.integer(seq_len(K) > K - extra)
  b <- fleming_bounds(p0, p1, alpha, sizes)
  o0 <- fleming_oc(sizes, b$accept, b$reject, p0); o1 <- fleming_oc(sizes, b$accept, b$reject, p1)
  add("fleming", sprintf("Fleming %d-stage p0=%g p1=%g alpha=%g beta=%g", K, p0, p1, alpha, beta),
      list(p0 = p0, p1 = p1, alpha = alpha, beta = beta, stages = K),
      list(stage_sizes = sizes, accept = b$accept, reject = b$reject, actual_alpha = o0$reject,
           actual_power = o1$reject, expected_n0 = o0$en, expected_n1 = o1$en,
           stop_probabilities0 = o0$stop), list(rel = 1e-9, abs = 1e-14))
}

doc <- list(
  source = sprintf("%s; stats (dbinom, pbinom, qnorm); Simon 1989 search, A'Hern 2001 scan and Fleming 1982 path enumeration written in base R",
                   R.version.string),
  generated_by = "tests/conformance/r/simon.R",
  cases = cases)
out <- "src/oncotrial/validation/references/simon_r.json"
writeLines(toJSON(doc, auto_unbox = TRUE, digits = NA, na = "string", pretty = TRUE), out)
cat(sprintf("wrote %d cases to %s\n", length(cases), out))
