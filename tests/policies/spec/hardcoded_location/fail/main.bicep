param workspaceName string

resource ws 'Microsoft.MachineLearningServices/workspaces@2026-05-01' existing = {
  name: workspaceName
}

resource endpoint 'Microsoft.MachineLearningServices/workspaces/onlineEndpoints@2026-05-01' = {
  parent: ws
  name: 'fraud-ep'
  location: 'westeurope'
  identity: { type: 'SystemAssigned' }
  properties: {
    authMode: 'Key'
  }
}
