# Export R survival data sets as CSV copies shipped in oncotrial/validation/datasets/.
# Run from the repository root:  Rscript tests/conformance/r/export_datasets.R
# Columns: time (days), event (1 = event, 0 = censored) and grouping covariates.
#   lung:        event = status - 1 (status 2 = dead); sex (1 male, 2 female)
#   veteran:     trt (1 standard, 2 test), celltype
#   ovarian:     time = futime, event = fustat; rx, resid_ds
#   colon_death: colon rows with etype == 2 (death); rx, sex, node4
#   gbsg:        time = rfstime, event = status (recurrence or death); hormon, grade
suppressMessages(library(survival))
out <- "src/oncotrial/validation/datasets"
dir.create(out, showWarnings = FALSE, recursive = TRUE)
w <- function(df, name) write.csv(df, file.path(out, paste0(name, ".csv")), row.names = FALSE)
w(data.frame(time = lung$time, event = lung$status - 1L, sex = lung$sex), "lung")
w(data.frame(time = veteran$time, event = veteran$status, trt = veteran$trt,
             celltype = as.character(veteran$celltype)), "veteran")
w(data.frame(time = ovarian$futime, event = ovarian$fustat, rx = ovarian$rx,
             resid_ds = ovarian$resid.ds), "ovarian")
cd <- colon[colon$etype == 2, ]
w(data.frame(time = cd$time, event = cd$status, rx = as.character(cd$rx), sex = cd$sex,
             node4 = cd$node4), "colon_death")
w(data.frame(time = gbsg$rfstime, event = gbsg$status, hormon = gbsg$hormon,
             grade = gbsg$grade), "gbsg")
cat("exported to", out, "\n")
