# Reference values for the log-rank family from R survival::survdiff (k groups, strata,
# rho) and survMisc::comp (Fleming-Harrington G(rho, gamma) for two groups).
# Run from the repository root after export_datasets.R:  Rscript tests/conformance/r/logrank.R
source("tests/conformance/r/km_common.R")
suppressMessages(library(survMisc))

sd_case <- function(name, data, group, strata = NULL, rho = 0) {
  d <- getdata(data)
  d$g <- factor(d[[group]])
  f <- if (is.null(strata)) survdiff(Surv(time, event) ~ g, data = d, rho = rho) else {
    d$s <- d[[strata]]; survdiff(Surv(time, event) ~ g + strata(s), data = d, rho = rho) }
  obs <- if (is.matrix(f$obs)) rowSums(f$obs) else f$obs
  ex <- if (is.matrix(f$exp)) rowSums(f$exp) else f$exp
  e <- list(groups = levels(d$g), observed = obs, expected = ex, variance = as.vector(t(f$var)),
            chisq = f$chisq, df = sum(ex > 0) - 1, p_value = f$pvalue)
  if (nlevels(d$g) == 2 && f$var[2, 2] > 0) {
    e$o_minus_e <- obs[2] - ex[2]; e$z_variance <- f$var[2, 2]
    e$z <- e$o_minus_e / sqrt(f$var[2, 2]); e$p_one_sided <- pnorm(e$z)
  }
  input <- list(data = data, group = group, rho = rho)
  if (!is.null(strata)) input$strata <- strata
  list(kind = "logrank", name = name, input = input, expected = e,
       tolerance = list(rel = 1e-6, abs = 1e-10))
}

# survMisc::comp gives Q = O - E of the second group with weights S(t-)^p (1 - S(t-))^q.
# Its variance differs from survdiff's hypergeometric one even for p = q = 0 (e.g. lung by
# sex: 40.428 vs survdiff 40.371), so the variance here is written out by hand from the
# hypergeometric formula; the script stops unless that hand variance reproduces survdiff's
# for gamma = 0 and survMisc's Q for every (rho, gamma).
hand_fh <- function(d, rho, gamma) {
  g2 <- d$g == levels(d$g)[2]
  tt <- sort(unique(d$time[d$event == 1]))
  n <- sapply(tt, function(u) sum(d$time >= u)); n2 <- sapply(tt, function(u) sum(d$time >= u & g2))
  dd <- sapply(tt, function(u) sum(d$time == u & d$event == 1))
  d2 <- sapply(tt, function(u) sum(d$time == u & d$event == 1 & g2))
  s <- c(1, cumprod(1 - dd / n))[seq_along(tt)]
  w <- s^rho * (1 - s)^gamma
  v <- ifelse(n > 1, w^2 * dd * (n - dd) / (n - 1) * (n2 / n) * (1 - n2 / n), 0)
  list(q = sum(w * (d2 - dd * n2 / n)), var = sum(v))
}

fh_case <- function(name, data, group, rho, gamma) {
  d <- getdata(data)
  d$g <- factor(d[[group]])
  tn <- ten(Surv(time, event) ~ g, data = d)
  invisible(capture.output(comp(tn, p = rho, q = gamma)))
  lrt <- attr(tn, "lrt")
  row <- lrt[lrt$W == sprintf("FH_p=%g_q=%g", rho, gamma), ]
  h <- hand_fh(d, rho, gamma)
  stopifnot(abs(h$q - row$Q) < 1e-8 * abs(row$Q))
  if (gamma == 0) stopifnot(abs(h$var - survdiff(Surv(time, event) ~ g, data = d, rho = rho)$var[2, 2]) < 1e-10)
  z <- row$Q / sqrt(h$var)
  list(kind = "logrank", name = name,
       input = list(data = data, group = group, rho = rho, gamma = gamma),
       expected = list(groups = levels(d$g), o_minus_e = row$Q, z_variance = h$var, z = z,
                       p_one_sided = pnorm(z)),
       tolerance = list(rel = 1e-6, abs = 1e-10))
}

cases <- list()
add <- function(x) cases[[length(cases) + 1]] <<- x
add(sd_case("lung by sex", list(dataset = "lung"), "sex"))
add(sd_case("lung by sex, rho = 1", list(dataset = "lung"), "sex", rho = 1))
add(sd_case("lung by sex, rho = 0.5", list(dataset = "lung"), "sex", rho = 0.5))
add(sd_case("veteran by trt", list(dataset = "veteran"), "trt"))
add(sd_case("veteran by trt, strata celltype", list(dataset = "veteran"), "trt", "celltype"))
add(sd_case("veteran by trt, strata celltype, rho = 1", list(dataset = "veteran"), "trt", "celltype", 1))
add(sd_case("veteran by celltype (4 groups)", list(dataset = "veteran"), "celltype"))
add(sd_case("ovarian by rx", list(dataset = "ovarian"), "rx"))
add(sd_case("ovarian by rx, strata resid_ds", list(dataset = "ovarian"), "rx", "resid_ds"))
add(sd_case("colon death by rx (3 groups)", list(dataset = "colon_death"), "rx"))
add(sd_case("colon death by rx, strata node4", list(dataset = "colon_death"), "rx", "node4"))
add(sd_case("colon death by rx, strata node4, rho = 1", list(dataset = "colon_death"), "rx", "node4", 1))
add(sd_case("gbsg by hormon", list(dataset = "gbsg"), "hormon"))
add(sd_case("gbsg by hormon, strata grade", list(dataset = "gbsg"), "hormon", "grade"))
tr <- TRICKY$ties
add(sd_case("tricky ties by arm", tr, "arm"))
add(sd_case("tricky ties by arm, strata", tr, "arm", "stratum"))
add(sd_case("tricky ties by arm, rho = 1", tr, "arm", rho = 1))
add(sd_case("tricky death and censoring at the same time", TRICKY$death_and_censor_same_time, "arm"))
add(sd_case("tricky arm with no events",
            list(time = c(1, 2, 3, 4, 5, 6), event = c(0, 0, 0, 1, 1, 0), arm = c(1, 1, 1, 2, 2, 2)), "arm"))
add(sd_case("tricky stratum with no events",
            list(time = c(1, 2, 3, 4, 5, 6, 7, 8), event = c(1, 0, 1, 1, 0, 0, 0, 0),
                 arm = c(1, 2, 1, 2, 1, 2, 1, 2), stratum = c(1, 1, 1, 1, 2, 2, 2, 2)), "arm", "stratum"))
add(sd_case("tricky single event",
            list(time = c(1, 2, 3), event = c(0, 1, 0), arm = c(1, 2, 1)), "arm"))
for (pq in list(c(0, 1), c(1, 1), c(1, 0), c(0.5, 2))) {
  add(fh_case(sprintf("lung by sex, FH(%g, %g)", pq[1], pq[2]), list(dataset = "lung"), "sex", pq[1], pq[2]))
  add(fh_case(sprintf("gbsg by hormon, FH(%g, %g)", pq[1], pq[2]), list(dataset = "gbsg"), "hormon", pq[1], pq[2]))
}
write_refs(cases, "logrank_r_survival.json",
           paste(SOURCE, "survdiff(); survMisc", packageVersion("survMisc"), "comp() Q = O - E for FH(rho, gamma) with a hand-written hypergeometric variance (see script)"),
           "tests/conformance/r/logrank.R")
