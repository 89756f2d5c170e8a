# Reference values for `oncotrial analyze survival` (oncotrial.analysis.analyze_survival):
# per-arm Kaplan-Meier medians with CI and landmark survival, (stratified) log-rank test,
# (stratified) Cox HR of the experimental arm, landmark differences, median follow-up by
# reverse Kaplan-Meier, from R survival. Times are reported in months = days / 30.4375 and
# landmarks are given in months, as the command does.
# Run from the repository root:  Rscript tests/conformance/r/analyze_survival.R
suppressMessages({library(survival); library(jsonlite)})
DPM <- 30.4375
SOURCE <- sprintf("%s; survival %s", R.version.string, packageVersion("survival"))

num <- function(x) { x <- as.numeric(x); x[is.nan(x)] <- NA; x }

# R and SAS read a median off a curve differently only where the curve (or a band) sits
# exactly at 0.5; such data cannot check the SAS profile (the case is then left out).
flat_at_half <- function(fit) {
  v <- c(fit$surv, fit$lower, fit$upper)
  any(abs(v - 0.5) < 1e-8, na.rm = TRUE)
}

one_case <- function(name, file, args, d, time, event, arm, ref, strata, landmarks, profile) {
  conf_type <- if (profile == "sas") "log-log" else "log"
  ties <- if (profile == "sas") "breslow" else "efron"
  d$t <- d[[time]]; d$e <- d[[event]]; d$a <- factor(as.character(d[[arm]]))
  d$a <- relevel(d$a, ref = ref)
  expn <- setdiff(levels(d$a), ref)
  arms <- list()
  for (lvl in c(expn, ref)) {
    fit <- survfit(Surv(t, e) ~ 1, data = d[d$a == lvl, ], conf.type = conf_type)
    if (profile == "sas" && flat_at_half(fit)) {
      cat("left out (a curve sits at 0.5, R is no SAS reference):", name, "\n")
      return(NULL)
    }
    q <- quantile(fit, 0.5)
    s <- summary(fit, times = landmarks * DPM, extend = TRUE)
    arms[[length(arms) + 1]] <- list(
      arm = lvl, n = fit$n, events = sum(fit$n.event),
      median = num(q$quantile) / DPM, median_ci = c(num(q$lower), num(q$upper)) / DPM,
      landmarks = lapply(seq_along(landmarks), function(i) list(
        time = landmarks[i], n_risk = s$n.risk[i], survival = s$surv[i],
        std_err = s$std.err[i], ci = c(num(s$lower[i]), num(s$upper[i])))),
      fit = fit)
  }
  diffs <- lapply(seq_along(landmarks), function(i) {
    se <- sapply(arms, function(a) summary(a$fit, times = landmarks[i] * DPM, extend = TRUE)$std.err)
    sv <- sapply(arms, function(a) summary(a$fit, times = landmarks[i] * DPM, extend = TRUE)$surv)
    diff <- sv[1] - sv[2]; sd <- sqrt(sum(se^2)); z <- qnorm(0.975)
    list(time = landmarks[i], difference = diff, std_err = sd,
         ci = c(diff - z * sd, diff + z * sd), p = 2 * pnorm(-abs(diff) / sd))
  })
  for (i in seq_along(arms)) arms[[i]]$fit <- NULL
  if (length(strata)) {
    d$s <- interaction(d[strata], drop = TRUE)
    lr <- survdiff(Surv(t, e) ~ a + strata(s), data = d)
    cx <- coxph(Surv(t, e) ~ a + strata(s), data = d, ties = ties)
  } else {
    lr <- survdiff(Surv(t, e) ~ a, data = d)
    cx <- coxph(Surv(t, e) ~ a, data = d, ties = ties)
  }
  sm <- summary(cx)
  rev <- survfit(Surv(t, 1 - e) ~ 1, data = d, conf.type = conf_type)
  if (profile == "sas" && flat_at_half(rev)) stop("reverse KM flat at 0.5: ", name)
  fu <- quantile(rev, 0.5)
  list(kind = "analyze_survival", name = name,
       input = list(file = file, args = args, profile = profile),
       expected = list(
         arms = arms,
         logrank = list(chisq = lr$chisq, df = length(lr$n) - 1, p = lr$pvalue),
         cox = list(hr = unname(sm$conf.int[1, "exp(coef)"]),
                    ci = unname(c(sm$conf.int[1, "lower .95"], sm$conf.int[1, "upper .95"])),
                    p = unname(sm$coefficients[1, "Pr(>|z|)"]), ties = ties,
                    score_p = unname(sm$sctest["pvalue"]), lr_p = unname(sm$logtest["pvalue"])),
         landmark_differences = diffs,
         followup = list(median = num(fu$quantile) / DPM,
                         ci = c(num(fu$lower), num(fu$upper)) / DPM)),
       tolerance = list(rel = 1e-6, abs = 1e-10))
}

cases <- list()
pl_file <- "src/oncotrial/data/examples/palmira_like_pfs.csv"
pl <- read.csv(pl_file, stringsAsFactors = FALSE)
pl$EVENT <- as.integer(pl$CNSR == 0)
vet_file <- "src/oncotrial/validation/datasets/veteran.csv"
vet <- read.csv(vet_file, stringsAsFactors = FALSE)
lung_file <- "src/oncotrial/validation/datasets/lung.csv"
lung <- read.csv(lung_file, stringsAsFactors = FALSE)

pl_args <- c("--time", "AVAL", "--censor", "CNSR", "--arm", "ARM", "--strata",
             "PRIOR_ET,VISCERAL", "--landmarks", "6,12", "--reference", "ET")
for (profile in c("r", "sas")) {
  cases[[length(cases) + 1]] <- one_case(
    sprintf("PALMIRA-like demo data, CNSR, strata PRIOR_ET x VISCERAL, profile %s", profile),
    pl_file, c(pl_args, "--profile", profile), pl, "AVAL", "EVENT", "ARM", "ET",
    c("PRIOR_ET", "VISCERAL"), c(6, 12), profile)
  cases[[length(cases) + 1]] <- one_case(
    sprintf("veteran, trt 2 vs 1, strata celltype, profile %s", profile), vet_file,
    c("--time", "time", "--event", "event", "--arm", "trt", "--strata", "celltype",
      "--landmarks", "3,6", "--reference", "1", "--profile", profile),
    vet, "time", "event", "trt", "1", "celltype", c(3, 6), profile)
}
cases[[length(cases) + 1]] <- one_case(
  "lung, sex 1 vs 2 (reference 2), unstratified, profile r", lung_file,
  c("--time", "time", "--event", "event", "--arm", "sex", "--landmarks", "6,12",
    "--reference", "2", "--profile", "r"),
  lung, "time", "event", "sex", "2", character(0), c(6, 12), "r")

cases <- Filter(Negate(is.null), cases)
doc <- list(source = SOURCE, generated_by = "tests/conformance/r/analyze_survival.R",
            cases = cases)
writeLines(toJSON(doc, auto_unbox = TRUE, digits = NA, na = "null", null = "null", pretty = TRUE),
           "tests/conformance/analyze_survival_r.json")
cat("wrote", length(cases), "cases to tests/conformance/analyze_survival_r.json\n")
