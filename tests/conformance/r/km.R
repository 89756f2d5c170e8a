# Reference values for Kaplan-Meier curves, quantiles, landmarks, RMST, two-arm differences
# and median follow-up, from R survival. Run from the repository root after
# export_datasets.R:  Rscript tests/conformance/r/km.R
source("tests/conformance/r/km_common.R")
profile_conf <- c(r = "log", sas = "log-log")
PROBS <- c(0.25, 0.5, 0.75)

km_case <- function(name, data, profile = "r", conf_type = NULL, times = NULL, tau = NULL) {
  d <- getdata(data)
  ct <- if (is.null(conf_type)) profile_conf[[profile]] else conf_type
  fit <- survfit(Surv(time, event) ~ 1, data = d, conf.type = ct)
  if (is.null(times)) times <- sort(unique(c(0, round(quantile(d$time, c(.1, .25, .5, .75, .9))),
                                            d$time[1], max(d$time) + 1)))
  if (is.null(tau)) tau <- unname(round(quantile(d$time, 0.8)))
  s <- summary(fit, times = times, extend = TRUE)
  rm <- summary(fit, rmean = tau)$table
  exp <- list(time = fit$time, n_risk = fit$n.risk, n_event = fit$n.event, n_censor = fit$n.censor,
              survival = fit$surv, std_err_cumhaz = num(ifelse(is.infinite(fit$std.err), NA, fit$std.err)),
              std_err_cumhaz_infinite = is.infinite(fit$std.err),
              lower = num(fit$lower), upper = num(fit$upper),
              landmark_survival = num(s$surv), landmark_std_err = num(s$std.err),
              landmark_lower = num(s$lower), landmark_upper = num(s$upper),
              landmark_n_risk = s$n.risk,
              rmean = unname(rm["rmean"]), rmean_se = unname(rm["se(rmean)"]))
  if (profile == "r" || !near_flat(fit, PROBS)) {
    q <- quantile(fit, PROBS)
    exp$quantile_estimate <- num(q$quantile); exp$quantile_lower <- num(q$lower)
    exp$quantile_upper <- num(q$upper)
  }
  input <- list(data = data, profile = profile, probs = PROBS, times = times, tau = tau)
  if (!is.null(conf_type)) input$conf_type <- conf_type
  list(kind = "km", name = name, input = input, expected = exp,
       tolerance = list(rel = 1e-6, abs = 1e-12))
}

diff_case <- function(name, dataset, column, a, b, t, tau, profile = "r") {
  fa <- survfit(Surv(time, event) ~ 1, data = getdata(list(dataset = dataset, where = setNames(list(a), column))),
                conf.type = profile_conf[[profile]])
  fb <- survfit(Surv(time, event) ~ 1, data = getdata(list(dataset = dataset, where = setNames(list(b), column))),
                conf.type = profile_conf[[profile]])
  sa <- summary(fa, times = t, extend = TRUE); sb <- summary(fb, times = t, extend = TRUE)
  z <- qnorm(0.975)
  d <- sa$surv - sb$surv; se <- sqrt(sa$std.err^2 + sb$std.err^2)
  ra <- summary(fa, rmean = tau)$table; rb <- summary(fb, rmean = tau)$table
  rd <- unname(ra["rmean"] - rb["rmean"]); rse <- unname(sqrt(ra["se(rmean)"]^2 + rb["se(rmean)"]^2))
  list(kind = "km_difference", name = name,
       input = list(dataset = dataset, column = column, a = a, b = b, t = t, tau = tau, profile = profile),
       expected = list(landmark_difference = d, landmark_std_err = se, landmark_lower = d - z * se,
                       landmark_upper = d + z * se, landmark_p = 2 * pnorm(-abs(d / se)),
                       rmst_a = unname(ra["rmean"]), rmst_b = unname(rb["rmean"]),
                       rmst_difference = rd, rmst_std_err = rse, rmst_lower = rd - z * rse,
                       rmst_upper = rd + z * rse, rmst_p = 2 * pnorm(-abs(rd / rse))),
       tolerance = list(rel = 1e-6, abs = 1e-12))
}

followup_case <- function(name, data, profile = "r") {
  d <- getdata(data)
  fit <- survfit(Surv(time, 1 - event) ~ 1, data = d, conf.type = profile_conf[[profile]])
  if (profile == "sas" && near_flat(fit, 0.5)) stop("flat reverse KM at 0.5: not an R reference for sas")
  q <- quantile(fit, 0.5)
  list(kind = "km_followup", name = name, input = list(data = data, profile = profile),
       expected = list(median = num(q$quantile), lower = num(q$lower), upper = num(q$upper)),
       tolerance = list(rel = 1e-6))
}

cases <- list()
add <- function(x) cases[[length(cases) + 1]] <<- x
for (ct in c("log", "log-log", "plain", "logit", "arcsin"))
  add(km_case(paste("lung, all, conf.type", ct), list(dataset = "lung"), conf_type = ct))
add(km_case("lung, all, sas profile", list(dataset = "lung"), profile = "sas"))
for (s in 1:2) for (p in c("r", "sas"))
  add(km_case(sprintf("lung, sex %d, %s profile", s, p), list(dataset = "lung", where = list(sex = s)), p))
for (p in c("r", "sas")) {
  add(km_case(paste("veteran, all,", p), list(dataset = "veteran"), p))
  for (a in 1:2) add(km_case(sprintf("veteran, trt %d, %s", a, p), list(dataset = "veteran", where = list(trt = a)), p))
  add(km_case(paste("ovarian, all,", p), list(dataset = "ovarian"), p))
  for (a in c("Obs", "Lev", "Lev+5FU"))
    add(km_case(sprintf("colon death, rx %s, %s", a, p), list(dataset = "colon_death", where = list(rx = a)), p))
  add(km_case(paste("gbsg, all,", p), list(dataset = "gbsg"), p))
  for (h in 0:1) add(km_case(sprintf("gbsg, hormon %d, %s", h, p), list(dataset = "gbsg", where = list(hormon = h)), p))
}
add(km_case("lung, all, tau past last observation", list(dataset = "lung"), tau = 1500))
for (nm in names(TRICKY)) for (ct in c("log", "log-log", "plain", "logit", "arcsin")) {
  tr <- TRICKY[[nm]]
  add(km_case(sprintf("tricky %s, %s", nm, ct), list(time = tr$time, event = tr$event),
              conf_type = ct, times = c(0, 0.5, 1, 2, 2.5, 4, 5, 10), tau = 5.5))
}
add(diff_case("lung sex 1 vs 2 at 180 days, RMST 365", "lung", "sex", 1, 2, 180, 365))
add(diff_case("lung sex 2 vs 1 at 365 days, RMST 730", "lung", "sex", 2, 1, 365, 730))
add(diff_case("veteran trt 2 vs 1 at 90 days, RMST 180", "veteran", "trt", 2, 1, 90, 180, "sas"))
add(diff_case("gbsg hormon 1 vs 0 at 1825 days, RMST 1825", "gbsg", "hormon", 1, 0, 1825, 1825))
add(diff_case("colon death Lev+5FU vs Obs at 1826 days, RMST 2000", "colon_death", "rx", "Lev+5FU", "Obs", 1826, 2000))
add(diff_case("ovarian rx 2 vs 1 at 365 days, RMST 730", "ovarian", "rx", 2, 1, 365, 730, "sas"))
for (nm in c("lung", "veteran", "ovarian", "colon_death", "gbsg")) for (p in c("r", "sas"))
  add(followup_case(sprintf("%s median follow-up, %s", nm, p), list(dataset = nm), p))
write_refs(cases, "km_r_survival.json",
           paste(SOURCE, "survfit(), quantile.survfit(), summary.survfit(times, extend = TRUE), summary(fit, rmean = tau)"),
           "tests/conformance/r/km.R")
