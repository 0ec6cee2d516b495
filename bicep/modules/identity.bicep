// User-assigned managed identity of a zt4ai VM.
// Source: bicep-deploy.md §4 (../shared/docs): Microsoft.ManagedIdentity/userAssignedIdentities 2023-01-31
// (microsoft/confidential-sidecar-containers@fa8df58 deployment/*.bicep); the three outputs are what the role
// assignments (principalId), the VM identity map (id) and IMDS token requests (clientId) need.

@description('Azure region.')
param location string

@description('Identity name.')
param name string

@description('Tags.')
param tags object = {}

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name
  location: location
  tags: tags
}

@description('Resource id: the key of the VM identity.userAssignedIdentities map.')
output id string = identity.id

@description('Object id of the service principal: the principal of role assignments.')
output principalId string = identity.properties.principalId

@description('Client id: selects this identity for IMDS tokens (AZURE_CLIENT_ID) when a VM has several.')
output clientId string = identity.properties.clientId
