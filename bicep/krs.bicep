// zt4ai with a self-hosted key-release service instead of Key Vault: two confidential VMs of the same shape in one
// subnet. The KRS VM runs `zt4ai krs serve` with TLS (key generated on the VM at first boot); the runner VM attests
// to the KRS and asks it for the model key. Sealed models live in a private storage container, as in main.bicep.
//
// The runner attests its vTPM evidence at the KRS (POST /attest/AzureCvm) and asks the KRS's Key Vault-compatible key
// API for the model key, authenticated by its user-assigned managed identity: the KRS trusts Entra ID tokens of this
// tenant for the resource krsResource (an app registration you create once, docs/deploy-azure.md) and grants
// keys.release to exactly that identity's object id (adminAuth.jwt.principals), so no app-role assignment is needed.
// deploy/deploy.sh --template krs copies the KRS certificate to the runner as the CA it trusts for the KRS. Until you
// create the model key on the KRS and upload the model sealed to it, the runner keeps retrying.
// Properties are sourced in the modules (bicep-deploy.md in ../shared/docs and the official references named there).

targetScope = 'resourceGroup'

@description('Azure region of every resource.')
param location string = resourceGroup().location

@description('Prefix of every resource name: 3-10 lowercase letters and digits, starting with a letter.')
@minLength(3)
@maxLength(10)
param namePrefix string = 'zt4ai'

@description('Confidential VM size of both VMs (the KRS and the runner). Default AMD SEV-SNP (DCasv5). Same list as modules/cvm.bicep (a test keeps them equal).')
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

@description('Attach a public IP address to the runner VM (never to the KRS). Off by default.')
param enablePublicIp bool = false

@description('Source (CIDR or service tag) allowed to reach SSH. Empty: no SSH rule. Never use * or Internet.')
param sshAllowedSourcePrefix string = ''

@description('TCP port of the runner API and of the KRS.')
@minValue(1024)
@maxValue(65535)
param appPort int = 8443

@description('Source (CIDR or service tag) allowed to reach the runner API and the KRS. Default: the virtual network only.')
param appAllowedSourcePrefix string = 'VirtualNetwork'

@description('Outbound internet access of the subnet (apt, npm, AMD KDS, Storage).')
@allowed([
  'natGateway'
  'defaultOutbound'
])
param outboundAccess string = 'natGateway'

@description('Address space of the virtual network.')
param vnetAddressPrefix string = '10.20.0.0/16'

@description('Address range of the workload subnet.')
param subnetAddressPrefix string = '10.20.1.0/24'

@description('Static private IP address of the KRS inside the subnet: its TLS certificate and token issuer name it.')
param krsPrivateIp string = '10.20.1.10'

@description('Require a KRS challenge nonce in every attestation (freshness).')
param krsRequireFreshness bool = true

@description('Name of the model key in the KRS keystore.')
param keyName string = 'zt4ai-model-key'

@description('Application ID URI (api://<application id>) of an app registration in this tenant that stands for the KRS: the resource the runner\'s managed identity asks Entra ID for a token for. It needs no app roles. Create it once: docs/deploy-azure.md.')
param krsResource string

@description('Object id of the model owner (you): Storage Blob Data Contributor on the model container. Empty: none.')
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

@description('Run the input guardian on every request.')
param guardInput bool = true

@description('Run the output guardian on every response.')
param guardOutput bool = true

@description('Tags for every resource.')
param tags object = {}

var suffix = uniqueString(resourceGroup().id)
var krsVmName = '${namePrefix}-krs'
var runnerVmName = '${namePrefix}-runner'
var krsUrl = 'https://${krsPrivateIp}:${appPort}'
var krsCaFile = '/etc/zt4ai/krs-ca.pem'
// The tenant of the subscription, as bicep-deploy.md §2 gives a vault its tenantId: the runner's identity lives there.
var tenantId = subscription().tenantId

module network 'modules/network.bicep' = {
  name: 'zt4ai-network'
  params: {
    location: location
    vnetName: '${namePrefix}-vnet'
    vnetAddressPrefix: vnetAddressPrefix
    subnetAddressPrefix: subnetAddressPrefix
    appPort: appPort
    appAllowedSourcePrefix: appAllowedSourcePrefix
    sshAllowedSourcePrefix: sshAllowedSourcePrefix
    outboundAccess: outboundAccess
    tags: tags
  }
}

module runnerIdentity 'modules/identity.bicep' = {
  name: 'zt4ai-runner-identity'
  params: {
    location: location
    name: '${namePrefix}-runner-id'
    tags: tags
  }
}

// The KRS holds no Azure role today; its identity is there for a Key Vault key-encryption key later
// (keys/ supports one) and costs nothing.
module krsIdentity 'modules/identity.bicep' = {
  name: 'zt4ai-krs-identity'
  params: {
    location: location
    name: '${namePrefix}-krs-id'
    tags: tags
  }
}

module storage 'modules/storage.bicep' = {
  name: 'zt4ai-storage'
  params: {
    location: location
    accountName: take('${namePrefix}st${suffix}', 24)
    containerName: modelContainerName
    readerPrincipalId: runnerIdentity.outputs.principalId
    uploaderPrincipalId: modelOwnerPrincipalId
    uploaderPrincipalType: modelOwnerPrincipalType
    tags: tags
  }
}

// /etc/zt4ai/krs.json: the settings of `zt4ai krs serve --config` (README "Key-release service"); paths absolute.
var krsConfig = {
  listen: '0.0.0.0:${appPort}'
  issuer: krsUrl
  dataDir: '/var/lib/zt4ai-krs'
  tls: {
    certFile: '/var/lib/zt4ai-krs/tls/cert.pem'
    keyFile: '/var/lib/zt4ai-krs/tls/key.pem'
  }
  requireFreshness: krsRequireFreshness
  kds: {
    enabled: true
    cacheDir: '/var/lib/zt4ai-krs/kds-cache'
  }
  // Who may call the key API (README "Key-release service: keys"): the administrator token made at first boot
  // (krs.yaml), and Entra ID tokens of this tenant for krsResource. Entra ID's v1 access tokens, which managed
  // identities get from IMDS, have the issuer https://sts.windows.net/<tenant>/ and carry the caller's object id in
  // `oid` (learn.microsoft.com/entra/identity-platform/access-token-claims-reference). The identity's principalId
  // (bicep-deploy.md §4) is that object id: it alone gets keys.release.
  adminAuth: {
    tokenFile: '/var/lib/zt4ai-krs/admin.token'
    resource: krsResource
    authority: 'https://login.microsoftonline.com/${tenantId}'
    jwt: {
      issuer: 'https://sts.windows.net/${tenantId}'
      principals: [
        {
          oid: runnerIdentity.outputs.principalId
          roles: [
            'keys.release'
          ]
        }
      ]
    }
  }
  logLevel: 'info'
}

var krsInitTemplate = loadTextContent('../deploy/cloud-init/krs.yaml')
var krsInit1 = replace(krsInitTemplate, '__INSTALL_SCRIPT_B64__', loadFileAsBase64('../deploy/cloud-init/install-zt4ai.sh'))
var krsInit2 = replace(krsInit1, '__KRS_UNIT_B64__', loadFileAsBase64('../deploy/systemd/zt4ai-krs.service'))
var krsInit3 = replace(krsInit2, '__KRS_CONFIG_B64__', base64(string(krsConfig)))
var krsInit4 = replace(krsInit3, '__KRS_IP__', krsPrivateIp)
var krsInit5 = replace(krsInit4, '__NODE_MAJOR__', nodeMajor)
var krsInit = replace(krsInit5, '__ZT4AI_PACKAGE__', zt4aiPackage)

module krs 'modules/cvm.bicep' = {
  name: 'zt4ai-krs-vm'
  params: {
    location: location
    vmName: krsVmName
    vmSize: vmSize
    osImage: osImage
    osDiskType: osDiskType
    securityEncryptionType: securityEncryptionType
    adminUsername: adminUsername
    adminSshPublicKey: adminSshPublicKey
    subnetId: network.outputs.subnetId
    privateIpAddress: krsPrivateIp
    enablePublicIp: false
    identityId: krsIdentity.outputs.id
    customData: base64(krsInit)
    tags: tags
  }
}

// The runner's configuration (DRAFT, defined by the runner issue; fields documented in docs/deploy-azure.md).
var runnerConfig = {
  schema: 'zt4ai-runner-config/draft-1'
  listen: '0.0.0.0:${appPort}'
  // The TCG log is copied there by the unit's privileged ExecStartPre (deploy/systemd/zt4ai-runner.service).
  evidence: {
    kind: 'azure-vtpm'
    tcgLog: '/run/zt4ai-runner/tcg-log.bin'
  }
  attestation: {
    kind: 'zt4ai-krs'
    url: krsUrl
    tlsCaFile: krsCaFile
  }
  // No tokenFile: the runner authenticates with its managed identity (ManagedIdentityCredential for this client id),
  // following the KRS's challenge to krsResource. The release CA is fetched from the KRS over the same TLS channel.
  keySource: {
    kind: 'zt4ai-krs'
    url: '${krsUrl}/keys/${keyName}'
    tlsCaFile: krsCaFile
    managedIdentityClientId: runnerIdentity.outputs.clientId
  }
  sealedModel: {
    kind: 'azure-blob'
    url: '${storage.outputs.blobEndpoint}${modelContainerName}/${modelBlobPrefix}/'
    managedIdentityClientId: runnerIdentity.outputs.clientId
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

var runnerInitTemplate = loadTextContent('../deploy/cloud-init/runner.yaml')
var runnerInit1 = replace(runnerInitTemplate, '__INSTALL_SCRIPT_B64__', loadFileAsBase64('../deploy/cloud-init/install-zt4ai.sh'))
var runnerInit2 = replace(runnerInit1, '__RUNNER_UNIT_B64__', loadFileAsBase64('../deploy/systemd/zt4ai-runner.service'))
var runnerInit3 = replace(runnerInit2, '__RUNNER_CONFIG_B64__', base64(string(runnerConfig)))
var runnerInit4 = replace(runnerInit3, '__AZURE_CLIENT_ID__', runnerIdentity.outputs.clientId)
var runnerInit5 = replace(runnerInit4, '__NODE_MAJOR__', nodeMajor)
// Key Vault's roots (main.bicep's releaseSigner); unused with a KRS, but runner.yaml is one template for both.
var runnerInit6 = replace(runnerInit5, '__AZURE_ROOTS_B64__', loadFileAsBase64('../deploy/cloud-init/azure-release-roots.pem'))
var runnerInit = replace(runnerInit6, '__ZT4AI_PACKAGE__', zt4aiPackage)

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
    identityId: runnerIdentity.outputs.id
    customData: base64(runnerInit)
    tags: tags
  }
}

@description('KRS VM name (for az vm run-command).')
output krsVmName string = krs.outputs.vmName

@description('KRS URL (token issuer; TLS with the certificate made on the KRS VM).')
output krsUrl string = krsUrl

@description('Runner VM name (for az vm run-command).')
output runnerVmName string = runner.outputs.vmName

@description('Private IP address of the runner.')
output runnerPrivateIp string = runner.outputs.privateIp

@description('Public IP address of the runner, empty unless enablePublicIp.')
output runnerPublicIp string = runner.outputs.publicIp

@description('TCP port of the runner API.')
output runnerPort int = appPort

@description('Model key name in the KRS keystore.')
output keyName string = keyName

@description('Storage account of the sealed models.')
output storageAccountName string = storage.outputs.accountName

@description('Blob container of the sealed models.')
output modelContainerName string = storage.outputs.containerName

@description('Blob prefix of the sealed model.')
output modelBlobPrefix string = modelBlobPrefix

@description('Client id of the runner identity.')
output identityClientId string = runnerIdentity.outputs.clientId

@description('Object id (principal id) of the runner identity: the one caller the KRS grants keys.release.')
output identityPrincipalId string = runnerIdentity.outputs.principalId

@description('Resource (application ID URI) the KRS names in its challenge and accepts as token audience.')
output krsResource string = krsResource
