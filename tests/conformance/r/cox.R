# Reference values for Cox proportional hazards models and treatment-by-subgroup interaction
# Wald tests, from R survival::coxph. Every case embeds the columns it uses, so the JSON is
# self-contained. Run from the repository root:  Rscript tests/conformance/r/cox.R
# Writes src/oncotrial/validation/references/cox_r_survival.json.
suppressMessages({library(survival); library(jsonlite)})
REFS <- "src/oncotrial/validation/references"

num <- function(x) { x <- as.numeric(x); x[is.nan(x)] <- NA; x }

# Fit one model as described by the case input; capture coxph's warnings.
fit_case <- function(inp) {
  d <- as.data.frame(lapply(inp$data, function(v) if (is.list(v)) unlist(v) else v),
                     stringsAsFactors = FALSE)
  rhs <- c()
  for (v in inp$covariates) {
    if (v %in% inp$categorical) {
      f <- factor(d[[v]], levels = sort(unique(d[[v]])))
      ref <- inp$reference[[v]]
      if (!is.null(ref)) f <- relevel(f, ref = as.character(ref))
      d[[v]] <- f
    }
    rhs <- c(rhs, v)
  }
  if (length(inp$strata)) rhs <- c(rhs, sprintf("strata(%s)", paste(inp$strata, collapse = ", ")))
  if (!is.null(inp$cluster)) rhs <- c(rhs, sprintf("cluster(%s)", inp$cluster))
  form <- as.formula(paste("Surv(time, event) ~", paste(rhs, collapse = " + ")))
  warns <- character(0)
  fit <- withCallingHandlers(
    coxph(form, data = d, ties = inp$ties, robust = isTRUE(inp$robust)),
    warning = function(w) { warns <<- c(warns, conditionMessage(w)); invokeRestart("muffleWarning") })
  list(fit = fit, warns = warns, data = d)
}

# oncotrial's coefficient names: a numeric column keeps its name, a level is "col=level".
onco_names <- function(fit, d, inp) {
  out <- c()
  for (v in inp$covariates) {
    if (v %in% inp$categorical) out <- c(out, paste0(v, "=", levels(d[[v]])[-1]))
    else out <- c(out, v)
  }
  stopifnot(length(out) == length(coef(fit)))
  out
}

cox_case <- function(name, data, covariates, categorical = character(0), reference = NULL,
                     strata = NULL, cluster = NULL, ties = "efron", robust = FALSE,
                     monotone = FALSE) {
  inp <- list(data = data, covariates = covariates, categorical = categorical,
              reference = reference, strata = strata, cluster = cluster, ties = ties,
              robust = robust || !is.null(cluster))
  r <- fit_case(inp)
  fit <- r$fit
  s <- summary(fit)
  cf <- s$coefficients
  p <- length(coef(fit))
  inf_vars <- integer(0)
  m <- regmatches(r$warns, regexpr("variable\\s+[0-9, ]+;", r$warns))
  if (length(m)) inf_vars <- as.integer(strsplit(gsub("[^0-9,]", "", m), ",")[[1]])
  infinite <- seq_len(p) %in% inf_vars
  lr <- 2 * diff(fit$loglik)
  exp <- list(
    names = onco_names(fit, r$data, inp),
    coef = num(coef(fit)),
    se = num(sqrt(diag(fit$naive.var %||% fit$var))),
    z = num(cf[, "z"]), p = num(cf[, "Pr(>|z|)"]),
    hr_lower = num(s$conf.int[, "lower .95"]), hr_upper = num(s$conf.int[, "upper .95"]),
    loglik_null = fit$loglik[1], loglik = fit$loglik[2],
    score = fit$score, score_p = pchisq(fit$score, p, lower.tail = FALSE),
    wald = fit$wald.test, wald_p = pchisq(fit$wald.test, p, lower.tail = FALSE),
    lr = lr, lr_p = pchisq(lr, p, lower.tail = FALSE), df = p,
    n = fit$n, events = fit$nevent, iterations = fit$iter,
    infinite = as.numeric(infinite), warnings = r$warns)
  if (inp$robust) {
    exp$robust_se <- num(sqrt(diag(fit$var)))
    exp$robust_score <- fit$rscore
    exp$robust_score_p <- pchisq(fit$rscore, p, lower.tail = FALSE)
  }
  # With an infinite coefficient only the likelihood-based quantities, the score test and the
  # finite coefficients are well defined; the Wald test and the diverging estimate are not.
  compare <- if (monotone) c("loglik_null", "loglik", "score", "score_p", "lr", "lr_p",
                             "infinite", "finite_coef", "n", "events")
             else c("coef", "se", "z", "p", "hr_lower", "hr_upper", "loglik_null", "loglik",
                    "score", "score_p", "wald", "wald_p", "lr", "lr_p", "n", "events",
                    "infinite", if (inp$robust) c("robust_se", "robust_score", "robust_score_p"))
  list(kind = "cox", name = name, input = inp, expected = exp, compare = compare,
       tolerance = list(rel = 1e-6, abs = 0))
}

`%||%` <- function(a, b) if (is.null(a)) b else a

# Treatment-by-subgroup interaction: Wald test of the arm:subgroup coefficients in
# coxph(Surv ~ arm * sub), df = levels - 1; plus the HR of arm within each level.
interaction_case <- function(name, data, arm_ref, levels_ref, ties = "efron") {
  d <- as.data.frame(data, stringsAsFactors = FALSE)
  d$arm <- relevel(factor(d$arm, levels = sort(unique(d$arm))), ref = arm_ref)
  d$sub <- relevel(factor(d$sub, levels = sort(unique(d$sub))), ref = levels_ref)
  fit <- coxph(Surv(time, event) ~ arm * sub, data = d, ties = ties)
  idx <- grep(":", names(coef(fit)))
  b <- coef(fit)[idx]; V <- vcov(fit)[idx, idx, drop = FALSE]
  stat <- as.numeric(t(b) %*% solve(V, b))
  lv <- levels(d$sub)
  hr <- sapply(lv, function(l) exp(coef(coxph(Surv(time, event) ~ arm, data = d[d$sub == l, ],
                                                 ties = ties))))
  list(kind = "cox_interaction", name = name,
       input = list(data = data, arm_reference = arm_ref, subgroup_reference = levels_ref,
                    ties = ties),
       expected = list(statistic = stat, df = length(idx),
                       p = pchisq(stat, length(idx), lower.tail = FALSE),
                       levels = lv, hr = unname(num(hr))),
       tolerance = list(rel = 1e-6, abs = 0))
}

cols <- function(d, keep) lapply(d[keep], function(v) if (is.factor(v)) as.character(v) else v)

# ---- public data sets (R survival) --------------------------------------------------------
lung2 <- na.omit(data.frame(time = lung$time, event = lung$status - 1L, age = lung$age,
                            sex = lung$sex, ph_ecog = lung$ph.ecog, ph_karno = lung$ph.karno,
                            inst = lung$inst, wt_loss = lung$wt.loss))
lung2$karno_hi <- as.integer(lung2$ph_karno > 80)
vet <- data.frame(time = veteran$time, event = veteran$status, trt = veteran$trt,
                  celltype = as.character(veteran$celltype), karno = veteran$karno,
                  age = veteran$age, prior = veteran$prior)
ova <- data.frame(time = ovarian$futime, event = ovarian$fustat, rx = ovarian$rx,
                  age = ovarian$age, resid_ds = ovarian$resid.ds, ecog_ps = ovarian$ecog.ps)
cd <- colon[colon$etype == 2, ]
col2 <- na.omit(data.frame(time = cd$time, event = cd$status, rx = as.character(cd$rx),
                           sex = cd$sex, age = cd$age, nodes = cd$nodes, surg = cd$surg,
                           differ = cd$differ, id = cd$id))
gb <- data.frame(time = gbsg$rfstime, event = gbsg$status, hormon = gbsg$hormon, age = gbsg$age,
                 meno = gbsg$meno, size = gbsg$size, grade = gbsg$grade, nodes = gbsg$nodes,
                 pgr = gbsg$pgr, er = gbsg$er)

L <- cols(lung2, c("time", "event", "age", "sex", "ph_ecog", "karno_hi", "inst", "wt_loss"))
V <- cols(vet, names(vet))
O <- cols(ova, names(ova))
C <- cols(col2, names(col2))
G <- cols(gb, names(gb))

cases <- list(
  cox_case("lung: age + sex + ph.ecog, Efron", L, c("age", "sex", "ph_ecog")),
  cox_case("lung: age + sex + ph.ecog, Breslow", L, c("age", "sex", "ph_ecog"), ties = "breslow"),
  cox_case("lung: ph.ecog as factor + wt.loss, Efron", L, c("ph_ecog", "wt_loss"),
           categorical = "ph_ecog"),
  cox_case("lung: age + sex, strata(karno > 80), robust, Breslow", L, c("age", "sex"),
           strata = "karno_hi", ties = "breslow", robust = TRUE),
  cox_case("lung: age + sex, cluster(inst), Efron", L, c("age", "sex"), cluster = "inst"),
  cox_case("veteran: trt + celltype + karno, Efron", V, c("trt", "celltype", "karno"),
           categorical = "celltype"),
  cox_case("veteran: trt + celltype (ref large) + karno, strata(prior), Breslow", V,
           c("trt", "celltype", "karno"), categorical = "celltype",
           reference = list(celltype = "large"), strata = "prior", ties = "breslow"),
  cox_case("veteran: trt + age, robust, Efron", V, c("trt", "age"), robust = TRUE),
  cox_case("ovarian: rx + age + resid.ds, Efron", O, c("rx", "age", "resid_ds")),
  cox_case("ovarian: rx + age, strata(ecog.ps), Breslow", O, c("rx", "age"), strata = "ecog_ps",
           ties = "breslow"),
  cox_case("colon (death): rx (ref Obs) + sex + age + nodes, Efron", C,
           c("rx", "sex", "age", "nodes"), categorical = "rx", reference = list(rx = "Obs")),
  cox_case("colon (death): rx + age, strata(surg, differ), robust, Efron", C, c("rx", "age"),
           categorical = "rx", reference = list(rx = "Obs"), strata = c("surg", "differ"),
           robust = TRUE),
  cox_case("colon (death): rx, strata(surg, differ), Breslow", C, c("rx"),
           categorical = "rx", reference = list(rx = "Obs"), strata = c("surg", "differ"),
           ties = "breslow"),
  cox_case("gbsg: hormon + age + meno + size + grade + nodes + pgr + er, Efron", G,
           c("hormon", "age", "meno", "size", "grade", "nodes", "pgr", "er"),
           categorical = "grade"),
  cox_case("gbsg: hormon + size + nodes, strata(grade), Breslow", G,
           c("hormon", "size", "nodes"), strata = "grade", ties = "breslow")
)

# ---- hand-made tricky data ------------------------------------------------------------------
tied <- list(time = c(1, 1, 1, 2, 2, 3, 3, 3, 3, 4, 5, 5, 6, 6, 6, 7, 8, 8, 9, 10),
             event = c(1, 1, 1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 1, 1, 0, 1, 0, 1, 1, 0),
             arm = c(0, 1, 0, 1, 0, 1, 1, 0, 0, 1, 0, 1, 1, 0, 1, 1, 0, 1, 0, 1),
             z = c(2.1, -0.3, 1.4, 0.2, 0.9, -1.1, 0.4, 1.8, 0.7, -0.6, 1.2, -0.2, 0.1,
                   1.6, -0.9, 0.3, 0.8, -1.4, 1.1, 0.5))
same_time <- list(time = c(2, 2, 2, 2, 3, 3, 3, 5, 5, 5, 5, 8, 8, 9),
                  event = c(1, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0, 1, 0, 1),
                  arm = c("A", "B", "B", "A", "B", "A", "B", "A", "B", "A", "B", "B", "A", "A"))
no_event_stratum <- list(time = c(1, 2, 3, 4, 5, 6, 7, 8, 2, 4, 6, 8, 3, 5, 7, 9),
                         event = c(1, 1, 0, 1, 1, 0, 1, 1, 0, 0, 0, 0, 1, 0, 1, 1),
                         arm = c(0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 1, 0, 1, 0),
                         stratum = c(1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3))
set.seed(20240611)
mono <- list(time = round(c(rexp(20, 0.1), rexp(20, 0.05)), 2),
             event = c(rbinom(20, 1, 0.7), rep(0, 20)),
             arm = rep(c("ET", "P+ET"), each = 20),
             age = round(rnorm(40, 60, 10)))
all_ties <- list(time = rep(5, 12), event = c(1, 1, 0, 1, 1, 1, 0, 1, 0, 1, 1, 0),
                 x = c(0.5, 1.2, -0.3, 2.0, 0.1, -1.0, 0.8, 1.5, -0.7, 0.2, 0.9, -0.4))
big_scale <- list(time = tied$time, event = tied$event,
                  age_days = round(20000 + 3000 * tied$z), arm = tied$arm)

cases <- c(cases, list(
  cox_case("tricky: heavy ties, Efron", tied, c("arm", "z")),
  cox_case("tricky: heavy ties, Breslow", tied, c("arm", "z"), ties = "breslow"),
  cox_case("tricky: heavy ties, robust, Efron", tied, c("arm", "z"), robust = TRUE),
  cox_case("tricky: deaths and censorings at the same times, Efron", same_time, "arm",
           categorical = "arm"),
  cox_case("tricky: deaths and censorings at the same times, Breslow", same_time, "arm",
           categorical = "arm", ties = "breslow"),
  cox_case("tricky: a stratum with no events, Efron", no_event_stratum, "arm", strata = "stratum"),
  cox_case("tricky: a stratum with no events, Breslow, robust", no_event_stratum, "arm",
           strata = "stratum", ties = "breslow", robust = TRUE),
  cox_case("tricky: an arm with no events (monotone likelihood), Efron", mono, c("arm", "age"),
           categorical = "arm", reference = list(arm = "ET"), monotone = TRUE),
  cox_case("tricky: an arm with no events (monotone likelihood), Breslow", mono, "arm",
           categorical = "arm", ties = "breslow", monotone = TRUE),
  cox_case("tricky: one covariate, all times tied, Efron", all_ties, "x"),
  cox_case("tricky: one covariate, all times tied, Breslow", all_ties, "x", ties = "breslow"),
  cox_case("tricky: covariate on a large scale (age in days)", big_scale, c("arm", "age_days"))
))

# ---- interaction tests ----------------------------------------------------------------------
lung_int <- list(time = lung2$time, event = lung2$event,
                 arm = ifelse(lung2$sex == 2, "female", "male"),
                 sub = ifelse(lung2$ph_ecog >= 2, "2-3", as.character(lung2$ph_ecog)))
vet_int <- list(time = vet$time, event = vet$event, arm = ifelse(vet$trt == 2, "test", "standard"),
                sub = vet$celltype)
col_int <- list(time = col2$time, event = col2$event,
                arm = ifelse(col2$rx == "Obs", "Obs", "Lev(+5FU)"),
                sub = ifelse(col2$age >= 65, ">=65", "<65"))
cases <- c(cases, list(
  interaction_case("lung: sex by ECOG (3 levels)", lung_int, "male", "0"),
  interaction_case("veteran: treatment by cell type (4 levels)", vet_int, "standard", "squamous"),
  interaction_case("colon (death): treatment by age group, Breslow", col_int, "Obs", "<65",
                   ties = "breslow")
))

# ---- forest-plot (subgroup) tables ------------------------------------------------------------
# Every cell of oncotrial's subgroup_analysis(): events / n and the Kaplan-Meier median (log CI,
# R quantile rule) per arm, the Cox HR (CI) of the experimental arm within the level, and the
# interaction Wald p of coxph(Surv ~ arm * sub [+ strata(...)]) (an aliased sub main effect,
# e.g. when sub is a stratification factor, is NA in R and dropped in oncotrial).
subgroup_case <- function(name, data, subgroups, reference, strata = NULL, ties = "efron") {
  d <- as.data.frame(data, stringsAsFactors = FALSE)
  arms <- sort(unique(d$arm)); exp_arm <- setdiff(arms, reference)
  d$armf <- relevel(factor(d$arm, levels = arms), ref = reference)
  st <- if (length(strata)) sprintf(" + strata(%s)", paste(strata, collapse = ", ")) else ""
  arm_stats <- function(x) {
    if (nrow(x) == 0) return(c(0, 0, NA, NA, NA))
    q <- quantile(survfit(Surv(time, event) ~ 1, data = x, conf.type = "log"), 0.5)
    c(sum(x$event), nrow(x), num(q$quantile), num(q$lower), num(q$upper))
  }
  one_row <- function(sub, level, x, p) {
    f <- coxph(as.formula(paste0("Surv(time, event) ~ armf", st)), data = x, ties = ties)
    ci <- summary(f)$conf.int
    e <- arm_stats(x[x$arm == exp_arm, ]); k <- arm_stats(x[x$arm == reference, ])
    list(subgroup = sub, level = level,
         experimental = e, control = k,
         hr = unname(ci[1, "exp(coef)"]), hr_lower = unname(ci[1, "lower .95"]),
         hr_upper = unname(ci[1, "upper .95"]), interaction_p = p)
  }
  rows <- list(one_row("All patients", "", d, NA))
  for (sub in subgroups) {
    lv <- sort(unique(d[[sub]]))
    d$subf <- factor(d[[sub]], levels = lv)
    f <- coxph(as.formula(paste0("Surv(time, event) ~ armf * subf", st)), data = d, ties = ties)
    idx <- grep(":", names(coef(f)))
    b <- coef(f)[idx]; V <- vcov(f)[idx, idx, drop = FALSE]
    p <- pchisq(as.numeric(t(b) %*% solve(V, b)), length(idx), lower.tail = FALSE)
    for (i in seq_along(lv))
      rows[[length(rows) + 1]] <- one_row(sub, as.character(lv[i]), d[d[[sub]] == lv[i], ],
                                          if (i == 1) p else NA)
  }
  list(kind = "subgroup_table", name = name,
       input = list(data = data, subgroups = subgroups, reference = reference,
                    strata = strata, ties = ties),
       expected = list(rows = rows), tolerance = list(rel = 1e-6, abs = 0))
}

cs <- col2[col2$rx != "Lev", ]
col_sub <- list(time = round(cs$time / 30.4375, 6), event = cs$event, arm = cs$rx,
                sex = ifelse(cs$sex == 1, "male", "female"),
                age_group = ifelse(cs$age >= 65, ">=65", "<65"),
                node4 = as.integer(cs$nodes > 4), surg = cs$surg, differ = cs$differ)
vet_sub <- list(time = vet$time, event = vet$event, arm = ifelse(vet$trt == 2, "test", "standard"),
                celltype = vet$celltype, prior = vet$prior)
cases <- c(cases, list(
  subgroup_case("colon (death), Lev+5FU vs Obs: sex, age group, differentiation", col_sub,
                c("sex", "age_group", "differ"), reference = "Obs"),
  subgroup_case("colon (death), Lev+5FU vs Obs, stratified by node4 and surg", col_sub,
                c("sex", "node4", "age_group"), reference = "Obs", strata = c("node4", "surg")),
  subgroup_case("veteran, test vs standard: cell type, prior therapy, Breslow", vet_sub,
                c("celltype", "prior"), reference = "standard", ties = "breslow")
))

doc <- list(source = sprintf("%s; survival %s coxph()", R.version.string,
                             as.character(packageVersion("survival"))),
            generated_by = "tests/conformance/r/cox.R", cases = cases)
writeLines(toJSON(doc, auto_unbox = TRUE, digits = NA, na = "null", null = "null"),
           file.path(REFS, "cox_r_survival.json"))
cat("wrote", length(cases), "cases to cox_r_survival.json\n")
