// Virtual network, one workload subnet, its NSG and (by default) a NAT gateway for outbound traffic.
//
// Sources (property paths and values):
// - bicep-deploy.md §6 (../shared/docs): resource types; Standard static public IPs only (Basic was retired on
//   30 Sep 2025, learn.microsoft.com/azure/virtual-network/ip-services/public-ip-basic-upgrade-guidance);
//   API versions: Azure/bicep-registry-modules (AVM) uses Microsoft.Network 2024-07-01 .. 2025-05-01.
// - learn.microsoft.com/azure/templates/microsoft.network/2024-07-01/virtualnetworks,
//   .../networksecuritygroups, .../natgateways, .../publicipaddresses (property names below).
// - Outbound: MicrosoftDocs/azure-docs articles/virtual-network/ip-services/default-outbound-access.md. Subnets of new
//   VNets are private (defaultOutboundAccess false) from Microsoft.Network API 2025-07-01 on, and implicit outbound
//   is discouraged anyway. The VM needs outbound HTTPS (apt, npm, MAA, Key Vault, Storage), so the default is an
//   explicit NAT gateway: its public IP only carries outbound connections, nothing can connect in through it.

@description('Azure region.')
param location string

@description('Virtual network name; the NSG, NAT gateway and its IP are named after it.')
param vnetName string

@description('Address space of the virtual network.')
param vnetAddressPrefix string = '10.20.0.0/16'

@description('Address range of the workload subnet (inside vnetAddressPrefix).')
param subnetAddressPrefix string = '10.20.1.0/24'

@description('TCP port the zt4ai services listen on (runner, and the KRS in krs.bicep).')
@minValue(1024)
@maxValue(65535)
param appPort int = 8443

@description('Source allowed to reach appPort: a CIDR or a service tag. Default: only addresses inside the virtual network.')
param appAllowedSourcePrefix string = 'VirtualNetwork'

@description('Source allowed to reach SSH (22): a CIDR such as your admin network or an Azure Bastion subnet. Empty: no SSH rule at all.')
param sshAllowedSourcePrefix string = ''

@description('natGateway: explicit outbound through a NAT gateway (recommended). defaultOutbound: rely on Azure default outbound access, which Microsoft is retiring for new networks.')
@allowed([
  'natGateway'
  'defaultOutbound'
])
param outboundAccess string = 'natGateway'

@description('Tags for every resource.')
param tags object = {}

var useNatGateway = outboundAccess == 'natGateway'

var appRule = {
  name: 'allow-zt4ai'
  properties: {
    priority: 100
    direction: 'Inbound'
    access: 'Allow'
    protocol: 'Tcp'
    sourceAddressPrefix: appAllowedSourcePrefix
    sourcePortRange: '*'
    destinationAddressPrefix: '*'
    destinationPortRange: string(appPort)
  }
}

var sshRule = {
  name: 'allow-ssh'
  properties: {
    priority: 110
    direction: 'Inbound'
    access: 'Allow'
    protocol: 'Tcp'
    sourceAddressPrefix: sshAllowedSourcePrefix
    sourcePortRange: '*'
    destinationAddressPrefix: '*'
    destinationPortRange: '22'
  }
}

// Azure's default rules (AllowVnetInBound, AllowAzureLoadBalancerInBound at 65000+) would let the whole virtual
// network reach every port; this rule ends inbound evaluation before them.
var denyAllRule = {
  name: 'deny-all-inbound'
  properties: {
    priority: 4096
    direction: 'Inbound'
    access: 'Deny'
    protocol: '*'
    sourceAddressPrefix: '*'
    sourcePortRange: '*'
    destinationAddressPrefix: '*'
    destinationPortRange: '*'
  }
}

resource nsg 'Microsoft.Network/networkSecurityGroups@2024-07-01' = {
  name: '${vnetName}-nsg'
  location: location
  tags: tags
  properties: {
    securityRules: concat([appRule], empty(sshAllowedSourcePrefix) ? [] : [sshRule], [denyAllRule])
  }
}

// Outbound-only address of the NAT gateway (never attached to a NIC).
resource natIp 'Microsoft.Network/publicIPAddresses@2024-07-01' = if (useNatGateway) {
  name: '${vnetName}-nat-ip'
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

resource nat 'Microsoft.Network/natGateways@2024-07-01' = if (useNatGateway) {
  name: '${vnetName}-nat'
  location: location
  tags: tags
  sku: {
    name: 'Standard'
  }
  properties: {
    idleTimeoutInMinutes: 4
    publicIpAddresses: [
      {
        id: natIp.id
      }
    ]
  }
}

resource vnet 'Microsoft.Network/virtualNetworks@2024-07-01' = {
  name: vnetName
  location: location
  tags: tags
  properties: {
    addressSpace: {
      addressPrefixes: [
        vnetAddressPrefix
      ]
    }
    subnets: [
      {
        name: 'workload'
        properties: {
          addressPrefix: subnetAddressPrefix
          networkSecurityGroup: {
            id: nsg.id
          }
          natGateway: useNatGateway ? { id: nat.id } : null
          // Private subnet when the NAT gateway provides outbound; explicit true keeps the old behaviour otherwise.
          defaultOutboundAccess: !useNatGateway
        }
      }
    ]
  }
}

@description('Resource id of the workload subnet.')
output subnetId string = '${vnet.id}/subnets/workload'

@description('Name of the network security group on the workload subnet.')
output nsgName string = nsg.name
