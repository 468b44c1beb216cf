param workspaceName string
param location string = resourceGroup().location

resource ws 'Microsoft.MachineLearningServices/workspaces@2026-05-01' existing = {
  name: workspaceName
}

resource endpoint 'Microsoft.MachineLearningServices/workspaces/onlineEndpoints@2026-05-01' = {
  parent: ws
  name: 'fraud-ep'
  location: location
  identity: { type: 'SystemAssigned' }
  properties: {
    authMode: 'Key'
  }
}
