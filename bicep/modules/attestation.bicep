// Optional Microsoft Azure Attestation provider of your own. Only needed for a custom attestation policy; the
// shared regional instances (https://shared<region>.<region>.attest.azure.net) work with the default policy.
// Sources: bicep-deploy.md §5 (../shared/docs): API 2021-06-01 (microsoft/confidential-sidecar-containers@fa8df58
// deployment/attestationProvider.bicep), an empty properties object is valid, name 3-24 lowercase letters and
// digits (Azure/azure-quickstart-templates quickstarts/microsoft.attestation/attestation-provider-create), and
// properties.attestUri is the issuer to put as `authority` in the key's release policy
// (Azure/azure-rest-api-specs specification/attestation/.../models.tsp).

@description('Azure region.')
param location string

@description('Provider name: 3-24 lowercase letters and digits, unique in the region.')
@minLength(3)
@maxLength(24)
param name string

@description('Tags.')
param tags object = {}

resource provider 'Microsoft.Attestation/attestationProviders@2021-06-01' = {
  name: name
  location: location
  tags: tags
  // Defaults (models.tsp): publicNetworkAccess Enabled, tpmAttestationAuthentication Enabled, no policy signing
  // certificates, so the attestation policy can be changed by an authorised Azure AD principal.
  properties: {}
}

@description('The attestation URI: the token issuer (iss) and the release-policy authority.')
output attestUri string = provider.properties.attestUri
