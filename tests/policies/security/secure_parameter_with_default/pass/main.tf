variable "workspace_id" {
  type = string
}
variable "api_key" {
  type      = string
  sensitive = true
}
resource "azapi_resource" "endpoint" {
  type      = "Microsoft.MachineLearningServices/workspaces/onlineEndpoints@2026-05-01"
  name      = "fraud-ep"
  parent_id = var.workspace_id
  location  = var.location
  body = {
    properties = {
      authMode = "Key"
    }
  }
}
