library(jsonlite)

init <- function() {
  model <<- readRDS(file.path(Sys.getenv("AZUREML_MODEL_DIR"), "model.rds"))
}
