// One Azure confidential VM (AMD SEV-SNP by default, Intel TDX as an option) with its NIC, optional public IP and a
// user-assigned identity. cloud-init arrives as customData.
//
// Sources (bicep-deploy.md §1 in ../shared/docs, and what it cites):
// - securityProfile.securityType ConfidentialVM, uefiSettings.vTpmEnabled true (mandatory for CVM),
//   uefiSettings.secureBootEnabled true (the TDX template allows only true), osDisk.managedDisk.securityProfile.
//   securityEncryptionType VMGuestStateOnly | DiskWithVMGuestState (NonPersistedTPM is TDX-only and left out):
//   Azure/confidential-computing-cvm@73aecaa cvm_deployment/templates/SNPCVM.json and TDXCVM.json, enum values from
//   @azure/arm-compute@24.1.0. Setting securityEncryptionType on a non-confidential size fails with
//   "managedDisk.securityProfile can only be set for Confidential VMs".
// - Sizes: SNPCVM.json / TDXCVM.json allowedValues (DC/EC as_v5, ads_v5; DC/EC es_v5, eds_v5).
// - Images: Canonical ubuntu-24_04-lts / cvm (SNPCVM.json writes the offer as Ubuntu-24_04-lts; offers are
//   case-insensitive) and 0001-com-ubuntu-confidential-vm-jammy / 22_04-lts-cvm; both templates offer both.
// - osDisk storageAccountType StandardSSD_LRS | Premium_LRS (SNPCVM.json allowedValues, default StandardSSD_LRS).
// - API 2025-04-01: a recent GA version used by Azure/bicep-registry-modules (AVM); >= 2023-09-01 as NonPersistedTPM
//   would need. The AVM VM module itself cannot deploy a CVM (bicep-registry-modules#5688), hence this resource.
// - identity.type UserAssigned with userAssignedIdentities { '<id>': {} } (bicep-deploy.md §1, §4).
// - osProfile (computerName, adminUsername, customData, linuxConfiguration.disablePasswordAuthentication,
//   ssh.publicKeys[].path/keyData), osDisk.deleteOption, networkInterfaces[].properties.deleteOption and
//   diagnosticsProfile.bootDiagnostics.enabled (managed boot-diagnostics storage, for the serial log):
//   learn.microsoft.com/azure/templates/microsoft.compute/2025-04-01/virtualmachines.
// - NIC and public IP: learn.microsoft.com/azure/templates/microsoft.network/2024-07-01/networkinterfaces and
//   .../publicipaddresses; Standard SKU, static (Basic is retired, bicep-deploy.md §6).

@description('Azure region.')
param location string

@description('VM name, also the host name.')
@minLength(1)
@maxLength(64)
param vmName string

@description('Confidential VM size. AMD SEV-SNP: DCasv5/DCadsv5/ECasv5/ECadsv5. Intel TDX: DCesv5/DCedsv5/ECesv5/ECedsv5 (a TDX VM needs a release policy for tdxvm).')
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

@description('DiskWithVMGuestState: confidential OS disk encryption plus the VM guest state (vTPM). VMGuestStateOnly: only the guest state is encrypted this way.')
@allowed([
  'DiskWithVMGuestState'
  'VMGuestStateOnly'
])
param securityEncryptionType string = 'DiskWithVMGuestState'

@description('Administrator user name (SSH key login only).')
param adminUsername string = 'azureuser'

@description('SSH public key of the administrator (ssh-rsa or ssh-ed25519).')
param adminSshPublicKey string

@description('Resource id of the subnet.')
param subnetId string

@description('Static private IP address in the subnet. Empty: assigned dynamically.')
param privateIpAddress string = ''

@description('Attach a public IP address to the VM. Off by default: reach it from the virtual network, a peered network or Azure Bastion.')
param enablePublicIp bool = false

@description('Resource id of the user-assigned managed identity attached to the VM.')
param identityId string

@description('cloud-init user data, base64 (osProfile.customData). It is readable by root in the VM and stored by Azure: never put secrets in it.')
param customData string

@description('Tags.')
param tags object = {}

var images = {
  'ubuntu-24.04': {
    publisher: 'Canonical'
    offer: 'ubuntu-24_04-lts'
    sku: 'cvm'
    version: 'latest'
  }
  'ubuntu-22.04': {
    publisher: 'Canonical'
    offer: '0001-com-ubuntu-confidential-vm-jammy'
    sku: '22_04-lts-cvm'
    version: 'latest'
  }
}

resource publicIp 'Microsoft.Network/publicIPAddresses@2024-07-01' = if (enablePublicIp) {
  name: '${vmName}-ip'
  location: location
  tags: tags
  sku: {
    name: 'Standard'
  }
  properties: {
    publicIPAllocationMethod: 'Static'
    publicIPAddressVersion: 'IPv4'
  }
}

resource nic 'Microsoft.Network/networkInterfaces@2024-07-01' = {
  name: '${vmName}-nic'
  location: location
  tags: tags
  properties: {
    ipConfigurations: [
      {
        name: 'ipconfig1'
        properties: {
          primary: true
          subnet: {
            id: subnetId
          }
          privateIPAllocationMethod: empty(privateIpAddress) ? 'Dynamic' : 'Static'
          privateIPAddress: empty(privateIpAddress) ? null : privateIpAddress
          publicIPAddress: enablePublicIp ? { id: publicIp.id } : null
        }
      }
    ]
  }
}

resource vm 'Microsoft.Compute/virtualMachines@2025-04-01' = {
  name: vmName
  location: location
  tags: tags
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    hardwareProfile: {
      vmSize: vmSize
    }
    securityProfile: {
      securityType: 'ConfidentialVM'
      uefiSettings: {
        secureBootEnabled: true
        vTpmEnabled: true
      }
    }
    storageProfile: {
      imageReference: images[osImage]
      osDisk: {
        createOption: 'FromImage'
        deleteOption: 'Delete'
        managedDisk: {
          storageAccountType: osDiskType
          securityProfile: {
            securityEncryptionType: securityEncryptionType
          }
        }
      }
    }
    osProfile: {
      computerName: vmName
      adminUsername: adminUsername
      customData: customData
      linuxConfiguration: {
        disablePasswordAuthentication: true
        ssh: {
          publicKeys: [
            {
              path: '/home/${adminUsername}/.ssh/authorized_keys'
              keyData: adminSshPublicKey
            }
          ]
        }
      }
    }
    networkProfile: {
      networkInterfaces: [
        {
          id: nic.id
          properties: {
            deleteOption: 'Delete'
          }
        }
      ]
    }
    diagnosticsProfile: {
      bootDiagnostics: {
        enabled: true
      }
    }
  }
}

@description('VM name.')
output vmName string = vm.name

@description('Private IP address of the VM.')
output privateIp string = nic.properties.ipConfigurations[0].properties.privateIPAddress

@description('Public IP address, or an empty string when none is attached.')
output publicIp string = enablePublicIp ? publicIp.properties.ipAddress : ''
