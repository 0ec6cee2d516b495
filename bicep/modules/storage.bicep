// Storage for sealed models: a private blob container that the runner reads with its managed identity.
// Sealed models are ciphertext (docs/sealed-model-format.md); access control still matters: a writer can delete or
// replace them (the runner then refuses to serve), and a reader learns which models exist and their sizes.
//
// Storage is not covered by bicep-deploy.md. Property names and values from
// learn.microsoft.com/azure/templates/microsoft.storage/2023-05-01/storageaccounts and
// .../2023-05-01/storageaccounts/blobservices/containers; role ids from MicrosoftDocs/azure-docs
// role-based-access-control/built-in-roles/storage.md: Storage Blob Data Reader 2a2b9908-6ea1-4ae2-8e65-a410df84e7d1,
// Storage Blob Data Contributor ba92f5b4-2d11-453d-a403-e96b0029c9fe.
// Role assignment shape (scope, guid() name, subscriptionResourceId role id, principalType): bicep-deploy.md §3.

@description('Azure region.')
param location string

@description('Storage account name: 3-24 lowercase letters and digits, globally unique.')
@minLength(3)
@maxLength(24)
param accountName string

@description('Blob container for sealed models.')
@minLength(3)
@maxLength(63)
param containerName string = 'models'

@description('Redundancy of the account.')
@allowed([
  'Standard_LRS'
  'Standard_ZRS'
])
param skuName string = 'Standard_LRS'

@description('Principal (object) id of the runner identity: Storage Blob Data Reader on the container.')
param readerPrincipalId string

@description('Optional principal (object) id of the model owner: Storage Blob Data Contributor on the container, to upload. Empty: none.')
param uploaderPrincipalId string = ''

@description('Type of uploaderPrincipalId.')
@allowed([
  'User'
  'Group'
  'ServicePrincipal'
])
param uploaderPrincipalType string = 'User'

@description('Tags.')
param tags object = {}

var blobDataReaderRoleId = '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1'
var blobDataContributorRoleId = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: accountName
  location: location
  tags: tags
  sku: {
    name: skuName
  }
  kind: 'StorageV2'
  properties: {
    accessTier: 'Hot'
    // No anonymous reads, no account keys or SAS signed with them: Microsoft Entra ID (RBAC) only.
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    allowCrossTenantReplication: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: account
  name: 'default'
}

resource container 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: containerName
  properties: {
    publicAccess: 'None'
  }
}

resource readerAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(container.id, readerPrincipalId, blobDataReaderRoleId)
  scope: container
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', blobDataReaderRoleId)
    principalId: readerPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource uploaderAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(uploaderPrincipalId)) {
  name: guid(container.id, uploaderPrincipalId, blobDataContributorRoleId)
  scope: container
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', blobDataContributorRoleId)
    principalId: uploaderPrincipalId
    principalType: uploaderPrincipalType
  }
}

@description('Account name.')
output accountName string = account.name

@description('Blob endpoint, e.g. https://<account>.blob.core.windows.net/.')
output blobEndpoint string = account.properties.primaryEndpoints.blob

@description('Container name.')
output containerName string = container.name
