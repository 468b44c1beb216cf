library(plumber)
model <- readRDS(file.path(Sys.getenv("MODEL_BASE_PATH"), "iris.rds"))

#* @get /live
function() "alive"

#* @get /ready
function() "ready"

#* @post /score
function(req) predict(model, newdata = jsonlite::fromJSON(req$postBody))
