# Shared helpers of the Kaplan-Meier / log-rank reference scripts (km.R, logrank.R).
suppressMessages({library(survival); library(jsonlite)})
DATASETS <- "src/oncotrial/validation/datasets"
REFS <- "src/oncotrial/validation/references"
ds <- function(name) read.csv(file.path(DATASETS, paste0(name, ".csv")), stringsAsFactors = FALSE)

# Hand-made tricky data (also used by the Python unit tests via the JSON inputs).
TRICKY <- list(
  ties = list(time = c(1, 1, 1, 2, 2, 3, 3, 3, 4, 5, 5, 6),
              event = c(1, 1, 0, 1, 1, 1, 0, 0, 1, 0, 1, 0),
              arm = c(0, 1, 0, 1, 0, 1, 1, 0, 0, 1, 0, 1),
              stratum = c(1, 1, 1, 1, 2, 2, 2, 2, 1, 2, 1, 2)),
  death_and_censor_same_time = list(time = c(2, 2, 2, 3, 3, 5, 5, 8),
                                    event = c(1, 0, 0, 1, 0, 1, 0, 1),
                                    arm = c("A", "B", "A", "B", "A", "B", "A", "B")),
  censored_before_first_event = list(time = c(1, 1.5, 2, 3, 4, 5), event = c(0, 0, 1, 1, 0, 1)),
  flat_at_half_then_event = list(time = c(1, 2, 3, 4), event = c(1, 1, 0, 1)),
  flat_at_half_to_end = list(time = c(1, 2, 3, 4), event = c(1, 1, 0, 0)),
  single_event = list(time = 5, event = 1),
  single_censored = list(time = 5, event = 0),
  all_censored = list(time = c(3, 1, 4, 1, 5), event = c(0, 0, 0, 0, 0)),
  last_is_event = list(time = c(1, 2, 2, 3, 4, 4, 5), event = c(1, 1, 0, 1, 0, 1, 1))
)

getdata <- function(spec) {
  if (!is.null(spec$dataset)) {
    d <- ds(spec$dataset)
    if (!is.null(spec$where)) for (k in names(spec$where)) d <- d[d[[k]] == spec$where[[k]], ]
    d
  } else as.data.frame(spec[c("time", "event", intersect(names(spec), c("arm", "stratum")))])
}

num <- function(x) { x <- as.numeric(x); x[is.nan(x)] <- NA; x }

write_refs <- function(cases, file, source, script) {
  doc <- list(source = source, generated_by = script, cases = cases)
  writeLines(toJSON(doc, auto_unbox = TRUE, digits = NA, na = "null", null = "null", pretty = TRUE),
             file.path(REFS, file))
  cat("wrote", length(cases), "cases to", file, "\n")
}
SOURCE <- sprintf("%s; survival %s", R.version.string, packageVersion("survival"))

# True when the curve or a band sits within tolerance of 1 - p somewhere: the R and SAS
# quantile rules can then differ, so R is no reference for the SAS profile there.
near_flat <- function(fit, probs) {
  v <- c(fit$surv, fit$lower, fit$upper)
  any(sapply(probs, function(p) any(abs(v - (1 - p)) < 1e-8, na.rm = TRUE)))
}
