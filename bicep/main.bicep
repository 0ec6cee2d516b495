// zt4ai on Azure: a confidential VM running the zt4ai runner, whose model key sits in Key Vault Premium behind
// Secure Key Release. Key Vault releases the key only to a VM whose Azure Attestation token satisfies the key's
// release policy, and only to the runner's identity. Sealed models live in a private storage container.
//
// On the confidential VM the runner's evidence is the vTPM's: it attests through Azure Attestation's AzureGuest
// protocol (../shared/docs/azure-protocols.md §1.6), gets its token encrypted to a vTPM key, and Key Vault wraps the
// released key to that same key, which only the vTPM can use. Exercised end to end against a simulated Azure (the
// KRS playing MAA and Key Vault, swtpm as the vTPM); it has not been run on Azure. See docs/deploy-azure.md.
//
// Deploy with deploy/deploy.sh (what-if preview, then create, then wait for the runner). Step by step, costs and
// troubleshooting: docs/deploy-azure.md. The release policy is deploy/policies/azure-cvm.json unless you pass
// your own (releasePolicy); `npm test` parses it with the same engine zt4ai uses (test/deploy/).
// Every property used is sourced in the module that sets it (bicep-deploy.md in ../shared/docs and the official
// references named there).

targetScope = 'resourceGroup'

@description('Azure region of every resource. It must offer the VM size: `az vm list-skus --location <region> --size Standard_DC --output table`.')
param location string = resourceGroup().location

@description('Prefix of every resource name: 3-10 lowercase letters and digits, starting with a letter.')
@minLength(3)
@maxLength(10)
param namePrefix string = 'zt4ai'

@description('Confidential VM size. Default AMD SEV-SNP (DCasv5). Intel TDX sizes (DCesv5...) need a release policy that asks for tdxvm (releasePolicy). Same list as modules/cvm.bicep (a test keeps them equal).')
@allowed([
  'Standard_DC2as_v5'
  'Standard_DC4as_v5'
  'Standard_DC8as_v5'
  'Standard_DC16as_v5'
  'Standard_DC32as_v5'
  'Standard_DC48as_v5'
  'Standard_DC64as_v5'
  'Standard_DC96as_v5'
  'Standard_DC2ads_v5'
  'Standard_DC4ads_v5'
  'Standard_DC8ads_v5'
  'Standard_DC16ads_v5'
  'Standard_DC32ads_v5'
  'Standard_DC48ads_v5'
  'Standard_DC64ads_v5'
  'Standard_DC96ads_v5'
  'Standard_EC2as_v5'
  'Standard_EC4as_v5'
  'Standard_EC8as_v5'
  'Standard_EC16as_v5'
  'Standard_EC20as_v5'
  'Standard_EC32as_v5'
  'Standard_EC48as_v5'
  'Standard_EC64as_v5'
  'Standard_EC96as_v5'
  'Standard_EC2ads_v5'
  'Standard_EC4ads_v5'
  'Standard_EC8ads_v5'
  'Standard_EC16ads_v5'
  'Standard_EC20ads_v5'
  'Standard_EC32ads_v5'
  'Standard_EC48ads_v5'
  'Standard_EC64ads_v5'
  'Standard_EC96ads_v5'
  'Standard_DC2es_v5'
  'Standard_DC4es_v5'
  'Standard_DC8es_v5'
  'Standard_DC16es_v5'
  'Standard_DC32es_v5'
  'Standard_DC48es_v5'
  'Standard_DC64es_v5'
  'Standard_DC96es_v5'
  'Standard_DC2eds_v5'
  'Standard_DC4eds_v5'
  'Standard_DC8eds_v5'
  'Standard_DC16eds_v5'
  'Standard_DC32eds_v5'
  'Standard_DC48eds_v5'
  'Standard_DC64eds_v5'
  'Standard_DC96eds_v5'
  'Standard_EC2es_v5'
  'Standard_EC4es_v5'
  'Standard_EC8es_v5'
  'Standard_EC16es_v5'
  'Standard_EC32es_v5'
  'Standard_EC48es_v5'
  'Standard_EC64es_v5'
  'Standard_EC128es_v5'
])
param vmSize string = 'Standard_DC4as_v5'

@description('Confidential Ubuntu image.')
@allowed([
  'ubuntu-24.04'
  'ubuntu-22.04'
])
param osImage string = 'ubuntu-24.04'

@description('OS disk type.')
@allowed([
  'StandardSSD_LRS'
  'Premium_LRS'
])
param osDiskType string = 'StandardSSD_LRS'

@description('DiskWithVMGuestState: confidential OS disk encryption plus guest state. VMGuestStateOnly: guest state (vTPM) only.')
@allowed([
  'DiskWithVMGuestState'
  'VMGuestStateOnly'
])
param securityEncryptionType string = 'DiskWithVMGuestState'

@description('Administrator user name (SSH key login only).')
param adminUsername string = 'azureuser'

@description('SSH public key of the administrator.')
param adminSshPublicKey string

@description('Attach a public IP address to the runner VM. Off by default.')
param enablePublicIp bool = false

@description('Source (CIDR or service tag) allowed to reach SSH. Empty: no SSH rule. Never use * or Internet.')
param sshAllowedSourcePrefix string = ''

@description('TCP port of the runner API.')
@minValue(1024)
@maxValue(65535)
param runnerPort int = 8443

@description('Source (CIDR or service tag) allowed to reach the runner API. Default: the virtual network only.')
param runnerAllowedSourcePrefix string = 'VirtualNetwork'

@description('Outbound internet access of the subnet (apt, npm, Azure Attestation, Key Vault, Storage).')
@allowed([
  'natGateway'
  'defaultOutbound'
])
param outboundAccess string = 'natGateway'

@description('Address space of the virtual network.')
param vnetAddressPrefix string = '10.20.0.0/16'

@description('Address range of the workload subnet.')
param subnetAddressPrefix string = '10.20.1.0/24'

@description('Key Vault name. Empty: derived from namePrefix and the resource group (a name stays reserved while a deleted vault is retained).')
@maxLength(24)
param keyVaultName string = ''

@description('Name of the model key in Key Vault.')
param keyName string = 'zt4ai-model-key'

@description('Release policy (Key Vault grammar "1.0.0") as an object, e.g. a file written by `zt4ai policy new` and checked by `zt4ai policy validate`. Empty: deploy/policies/azure-cvm.json.')
param releasePolicy object = {}

@description('Azure Attestation instance the runner attests to; it becomes the authority of the release policy. Empty: the policy\'s first authority (East US shared instance for azure-cvm.json). Ignored when deployAttestationProvider is true.')
param maaEndpoint string = ''

@description('Create an Azure Attestation provider of your own and use it instead of a shared instance.')
param deployAttestationProvider bool = false

@description('Object id of the model owner (you): Key Vault Reader on the key (to download its public part) and Storage Blob Data Contributor on the model container. Empty: none (grant them yourself).')
param modelOwnerPrincipalId string = ''

@description('Type of modelOwnerPrincipalId.')
@allowed([
  'User'
  'Group'
  'ServicePrincipal'
])
param modelOwnerPrincipalType string = 'User'

@description('Blob container for sealed models.')
param modelContainerName string = 'models'

@description('Blob prefix (folder) of the sealed model inside the container.')
param modelBlobPrefix string = 'model'

@description('PEM public key (ECDSA P-256/P-384) of the model signer the runner trusts.')
param modelSignerPublicKeyPem string

@description('npm install spec of zt4ai: a tarball URL you host (`npm pack`) or git+https://<host>/<org>/zt4ai.git#<commit>. No quotes or spaces.')
param zt4aiPackage string

@description('Node.js major version installed from NodeSource. CI tests on 20; 22 is the LTS line supported longer.')
@allowed([
  '20'
  '22'
])
param nodeMajor string = '22'

@description('The GGUF file inside the sealed model that the runner serves in process with llama.cpp (node-llama-cpp).')
param modelFile string = 'model.gguf'

@description('CPU threads llama.cpp uses per request: the vCPUs left for inference (a DC4as_v5 has 4). More threads than free cores is far slower, because llama.cpp\'s threads spin.')
@minValue(1)
@maxValue(96)
param inferenceThreads int = 2

@description('Run the input guardian (prompt injection, jailbreaks) on every request.')
param guardInput bool = true

@description('Run the output guardian (PII, secrets, system-prompt leaks) on every response.')
param guardOutput bool = true

@description('Tags for every resource.')
param tags object = {}

var suffix = uniqueString(resourceGroup().id)
var vaultName = empty(keyVaultName) ? take('${namePrefix}kv${suffix}', 24) : keyVaultName
var runnerVmName = '${namePrefix}-runner'

// The policy file the tests check (test/deploy/) unless the deployer brings one.
var defaultReleasePolicy = loadJsonContent('../deploy/policies/azure-cvm.json')
var effectiveReleasePolicy = empty(releasePolicy) ? defaultReleasePolicy : releasePolicy

// One URL for both sides: the runner attests here, and Key Vault requires the token issuer to equal the authority.
var maa = deployAttestationProvider ? attestation.outputs.attestUri : (empty(maaEndpoint) ? effectiveReleasePolicy.anyOf[0].authority : maaEndpoint)
var overrideAuthority = deployAttestationProvider || !empty(maaEndpoint)

module network 'modules/network.bicep' = {
  name: 'zt4ai-network'
  params: {
    location: location
    vnetName: '${namePrefix}-vnet'
    vnetAddressPrefix: vnetAddressPrefix
    subnetAddressPrefix: subnetAddressPrefix
    appPort: runnerPort
    appAllowedSourcePrefix: runnerAllowedSourcePrefix
    sshAllowedSourcePrefix: sshAllowedSourcePrefix
    outboundAccess: outboundAccess
    tags: tags
  }
}

module identity 'modules/identity.bicep' = {
  name: 'zt4ai-identity'
  params: {
    location: location
    name: '${namePrefix}-runner-id'
    tags: tags
  }
}

module attestation 'modules/attestation.bicep' = if (deployAttestationProvider) {
  name: 'zt4ai-attestation'
  params: {
    location: location
    name: take('${namePrefix}maa${suffix}', 24)
    tags: tags
  }
}

module keyVault 'modules/keyvault.bicep' = {
  name: 'zt4ai-keyvault'
  params: {
    location: location
    vaultName: vaultName
    keyName: keyName
    releasePolicy: effectiveReleasePolicy
    releasePolicyAuthority: overrideAuthority ? maa : ''
    releasePrincipalId: identity.outputs.principalId
    readerPrincipalId: modelOwnerPrincipalId
    readerPrincipalType: modelOwnerPrincipalType
    tags: tags
  }
}

module storage 'modules/storage.bicep' = {
  name: 'zt4ai-storage'
  params: {
    location: location
    accountName: take('${namePrefix}st${suffix}', 24)
    containerName: modelContainerName
    readerPrincipalId: identity.outputs.principalId
    uploaderPrincipalId: modelOwnerPrincipalId
    uploaderPrincipalType: modelOwnerPrincipalType
    tags: tags
  }
}

// Written by cloud-init (runner.yaml, __AZURE_ROOTS_B64__).
var azureReleaseRootsFile = '/etc/zt4ai/azure-release-roots.pem'

// The runner's configuration, /etc/zt4ai/runner.json. DRAFT: the runner issue defines this schema; these are the
// fields a deployment has to provide, named explicitly and documented in docs/deploy-azure.md.
var runnerConfig = {
  schema: 'zt4ai-runner-config/draft-1'
  listen: '0.0.0.0:${runnerPort}'
  // The TCG log is copied there by the unit's privileged ExecStartPre (deploy/systemd/zt4ai-runner.service).
  evidence: {
    kind: 'azure-vtpm'
    tcgLog: '/run/zt4ai-runner/tcg-log.bin'
  }
  attestation: {
    kind: 'azure-maa'
    url: maa
  }
  keySource: {
    kind: 'azure-key-vault'
    url: keyVault.outputs.keyId
    managedIdentityClientId: identity.outputs.clientId
    // Key Vault signs a release with its TLS certificate (x5c), which chains to a public root: the runner accepts
    // only the root CAs Microsoft lists for Azure's endpoints (deploy/cloud-init/azure-release-roots.pem, sourced
    // there), not the whole system store, and not a pin of the vault's own certificate, which Azure renews.
    releaseSigner: {
      caFile: azureReleaseRootsFile
    }
  }
  sealedModel: {
    kind: 'azure-blob'
    url: '${storage.outputs.blobEndpoint}${modelContainerName}/${modelBlobPrefix}/'
    managedIdentityClientId: identity.outputs.clientId
    plaintextDir: '/run/zt4ai-runner/model'
  }
  trustedSigners: [
    {
      kind: 'public-key'
      publicKeyPem: modelSignerPublicKeyPem
    }
  ]
  // The llama backend (README "Backends"); threads, unlike the file, are not part of the configuration digest.
  backend: {
    kind: 'llama'
    file: modelFile
    threads: inferenceThreads
  }
  guardians: {
    input: {
      enabled: guardInput
    }
    output: {
      enabled: guardOutput
    }
  }
}

// cloud-init: the template file with its placeholders replaced, one per step (deploy/cloud-init/runner.yaml lists
// them). Files are loaded when the template is compiled; paths are relative to this file and cannot be parameters.
var cloudInitTemplate = loadTextContent('../deploy/cloud-init/runner.yaml')
var cloudInit1 = replace(cloudInitTemplate, '__INSTALL_SCRIPT_B64__', loadFileAsBase64('../deploy/cloud-init/install-zt4ai.sh'))
var cloudInit2 = replace(cloudInit1, '__RUNNER_UNIT_B64__', loadFileAsBase64('../deploy/systemd/zt4ai-runner.service'))
var cloudInit3 = replace(cloudInit2, '__RUNNER_CONFIG_B64__', base64(string(runnerConfig)))
var cloudInit4 = replace(cloudInit3, '__AZURE_CLIENT_ID__', identity.outputs.clientId)
var cloudInit5 = replace(cloudInit4, '__NODE_MAJOR__', nodeMajor)
var cloudInit6 = replace(cloudInit5, '__AZURE_ROOTS_B64__', loadFileAsBase64('../deploy/cloud-init/azure-release-roots.pem'))
var cloudInit = replace(cloudInit6, '__ZT4AI_PACKAGE__', zt4aiPackage)

module runner 'modules/cvm.bicep' = {
  name: 'zt4ai-runner-vm'
  params: {
    location: location
    vmName: runnerVmName
    vmSize: vmSize
    osImage: osImage
    osDiskType: osDiskType
    securityEncryptionType: securityEncryptionType
    adminUsername: adminUsername
    adminSshPublicKey: adminSshPublicKey
    subnetId: network.outputs.subnetId
    enablePublicIp: enablePublicIp
    identityId: identity.outputs.id
    customData: base64(cloudInit)
    tags: tags
  }
}

@description('Runner VM name (for az vm run-command).')
output runnerVmName string = runner.outputs.vmName

@description('Private IP address of the runner.')
output runnerPrivateIp string = runner.outputs.privateIp

@description('Public IP address of the runner, empty unless enablePublicIp.')
output runnerPublicIp string = runner.outputs.publicIp

@description('TCP port of the runner API.')
output runnerPort int = runnerPort

@description('Key Vault name.')
output keyVaultName string = keyVault.outputs.vaultName

@description('Key Vault URI.')
output keyVaultUri string = keyVault.outputs.vaultUri

@description('Model key name.')
output keyName string = keyVault.outputs.keyName

@description('Versionless id of the model key: the runner key source.')
output keyId string = keyVault.outputs.keyId

@description('Azure Attestation instance the runner uses (the release policy authority).')
output maaEndpoint string = maa

@description('The release policy attached to the key, as JSON.')
output releasePolicyJson string = keyVault.outputs.releasePolicyJson

@description('Storage account of the sealed models.')
output storageAccountName string = storage.outputs.accountName

@description('Blob container of the sealed models.')
output modelContainerName string = storage.outputs.containerName

@description('Blob prefix of the sealed model.')
output modelBlobPrefix string = modelBlobPrefix

@description('Client id of the runner identity.')
output identityClientId string = identity.outputs.clientId
