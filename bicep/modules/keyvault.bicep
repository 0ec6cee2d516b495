// Key Vault Premium holding the model key: an exportable RSA-HSM key that Key Vault releases only to a workload whose
// attestation token satisfies the key's release policy (Secure Key Release), and only to the runner's identity.
//
// Sources (bicep-deploy.md §2-§3 in ../shared/docs, and what it cites):
// - Vault: sku family A / premium (SKR needs HSM-backed keys; MicrosoftDocs/azure-docs confidential-computing
//   quick-create-confidential-vm-arm.md and confidential-vm-secure-key-release.md), RBAC permission model (the
//   release role works only with it), purge protection (the quickstart enables it), soft delete.
//   softDeleteRetentionInDays (7-90): learn.microsoft.com/azure/templates/microsoft.keyvault/2024-11-01/vaults.
// - Key: Microsoft.KeyVault/vaults/keys with properties.kty RSA-HSM, keySize 3072 and keyOps wrapKey/unwrapKey as in
//   the quickstart; attributes.exportable must be set at creation and can never change (AKV.SKR.1003);
//   properties.release_policy {contentType, data} with data = base64url of the policy JSON (wire names from the
//   @azure/arm-keyvault@5.0.0 serializer; Azure/bicep-registry-modules avm/res/key-vault/vault/key/main.bicep).
// - Role: Key Vault Crypto Service Release User 08bbd89e-9f13-488c-ac41-acfcb10c90ab, data action
//   Microsoft.KeyVault/vaults/keys/release/action only (MicrosoftDocs/azure-docs role-based-access-control/
//   built-in-roles/security.md), assigned on the key so the runner can release this key and nothing else.
//   Key Vault Reader 21090545-7ca7-4776-b22c-e363652d74d2 (same page) includes keys/read, which exposes the public
//   part of an RSA key: what seal-and-upload.sh needs to wrap model keys, without any private-key operation.
// - ARM creates a key only if it does not exist: a later deployment neither adds a version nor changes the policy
//   (KeysOperations.createIfNotExist in @azure/arm-keyvault). Change a policy with `az keyvault key set-attributes`.

@description('Azure region.')
param location string

@description('Vault name: 3-24 letters, digits and hyphens, starting with a letter, globally unique.')
@minLength(3)
@maxLength(24)
param vaultName string

@description('Name of the model key.')
param keyName string

@description('Release policy document (Key Vault grammar "1.0.0") as an object; main.bicep loads it from deploy/policies/.')
param releasePolicy object

@description('If set, every authority of the policy becomes this URL: the Azure Attestation instance the runner uses. Key Vault compares the authority with the token issuer. Empty: the policy is used as written.')
param releasePolicyAuthority string = ''

@description('Principal (object) id of the runner identity that may release the key.')
param releasePrincipalId string

@description('Optional principal (object) id of the model owner, given Key Vault Reader on the key to download its public part. Empty: none.')
param readerPrincipalId string = ''

@description('Type of readerPrincipalId.')
@allowed([
  'User'
  'Group'
  'ServicePrincipal'
])
param readerPrincipalType string = 'User'

@description('Days a deleted vault or key stays recoverable (7-90). With purge protection nobody can shorten it.')
@minValue(7)
@maxValue(90)
param softDeleteRetentionInDays int = 90

@description('Tags.')
param tags object = {}

var releaseRoleId = '08bbd89e-9f13-488c-ac41-acfcb10c90ab' // Key Vault Crypto Service Release User
var keyVaultReaderRoleId = '21090545-7ca7-4776-b22c-e363652d74d2' // Key Vault Reader

// Module parameters are known when the module starts, so this loop is allowed (a loop over runtime values is not).
var policyRules = [for rule in releasePolicy.anyOf: empty(releasePolicyAuthority) ? rule : union(rule, { authority: releasePolicyAuthority })]
var policyJson = string({
  version: releasePolicy.version
  anyOf: policyRules
})
// Key Vault reads release_policy.data as base64url (bicep-deploy.md §2; azure-protocols.md §3.1). Bicep only has
// base64(), so map its alphabet (+ to -, / to _) and drop the padding.
var policyBase64Url = replace(replace(replace(base64(policyJson), '+', '-'), '/', '_'), '=', '')

resource vault 'Microsoft.KeyVault/vaults@2024-11-01' = {
  name: vaultName
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'premium'
    }
    enableRbacAuthorization: true
    enablePurgeProtection: true
    enableSoftDelete: true
    softDeleteRetentionInDays: softDeleteRetentionInDays
  }
}

resource key 'Microsoft.KeyVault/vaults/keys@2024-11-01' = {
  parent: vault
  name: keyName
  tags: tags
  properties: {
    kty: 'RSA-HSM'
    keySize: 3072
    keyOps: [
      'wrapKey'
      'unwrapKey'
    ]
    attributes: {
      enabled: true
      exportable: true
    }
    release_policy: {
      contentType: 'application/json; charset=utf-8'
      data: policyBase64Url
    }
  }
}

resource releaseAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(key.id, releasePrincipalId, releaseRoleId)
  scope: key
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', releaseRoleId)
    principalId: releasePrincipalId
    // A new identity may not have replicated yet; naming its type avoids PrincipalNotFound (bicep-deploy.md §3).
    principalType: 'ServicePrincipal'
  }
}

resource readerAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(readerPrincipalId)) {
  name: guid(key.id, readerPrincipalId, keyVaultReaderRoleId)
  scope: key
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultReaderRoleId)
    principalId: readerPrincipalId
    principalType: readerPrincipalType
  }
}

@description('Vault name.')
output vaultName string = vault.name

@description('Vault URI, e.g. https://<name>.vault.azure.net/.')
output vaultUri string = vault.properties.vaultUri

@description('Key name.')
output keyName string = key.name

@description('Versionless key id (https://<vault>.vault.azure.net/keys/<name>): the runner releases the current version.')
output keyId string = key.properties.keyUri

@description('The release policy attached to the key, as JSON: check tokens against it with `zt4ai policy check`.')
output releasePolicyJson string = policyJson
