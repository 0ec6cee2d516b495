/**
 * Rules over the parse trees of bicep/: what must hold for a deployment to be confidential, to release its key only
 * to the attested runner, and to expose nothing by default. Each rule returns its violations, so a test can show that
 * a deliberately broken template is caught by the rule meant for it.
 *
 * Facts come from ../shared/docs/bicep-deploy.md (cited "BD §n") and the official references named next to them.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { azureCompatibilityNotes, parseReleasePolicy } from '../../attestation/policy/index.js';
import {
  type BicepFile,
  type Declaration,
  type SyntaxNode,
  Unevaluable,
  allowedValues,
  callArguments,
  callsOf,
  evaluate,
  expand,
  identifiersIn,
  modules,
  objectKeys,
  param,
  params,
  property,
  resources,
  resourcesOfType,
  stringValue,
  syntaxProblems,
  variables,
} from './bicep-parser.js';

/**
 * The API versions a template may use, per resource type: the documented set. BD §1 (VM: versions seen in
 * Azure/confidential-computing-cvm, AVM and @azure/arm-compute@24.1.0, plus the recommended 2024-11-01), §2 (Key
 * Vault vaults and keys), §3 (role assignments), §4 (managed identity), §5 (attestation providers), §6 (network: AVM
 * uses 2024-07-01 .. 2025-05-01; NAT gateways are not in BD, same API family:
 * learn.microsoft.com/azure/templates/microsoft.network/2024-07-01/natgateways). Storage is not in BD:
 * learn.microsoft.com/azure/templates/microsoft.storage/2023-05-01/storageaccounts (and its blobservices/containers).
 */
export const DOCUMENTED_API_VERSIONS: Readonly<Record<string, readonly string[]>> = {
  'Microsoft.Compute/virtualMachines': ['2021-07-01', '2023-09-01', '2024-11-01', '2025-04-01', '2025-11-01', '2026-03-01'],
  'Microsoft.KeyVault/vaults': ['2023-07-01', '2024-11-01', '2025-05-01', '2026-02-01'],
  'Microsoft.KeyVault/vaults/keys': ['2023-07-01', '2024-11-01'],
  'Microsoft.Authorization/roleAssignments': ['2022-04-01'],
  'Microsoft.ManagedIdentity/userAssignedIdentities': ['2023-01-31', '2024-11-30'],
  'Microsoft.Attestation/attestationProviders': ['2021-06-01', '2021-06-01-preview', '2020-10-01'],
  'Microsoft.Network/virtualNetworks': ['2024-07-01', '2025-05-01'],
  'Microsoft.Network/networkSecurityGroups': ['2024-07-01', '2025-05-01'],
  'Microsoft.Network/networkInterfaces': ['2024-07-01', '2025-05-01'],
  'Microsoft.Network/publicIPAddresses': ['2024-07-01', '2025-05-01'],
  'Microsoft.Network/natGateways': ['2024-07-01'],
  'Microsoft.Storage/storageAccounts': ['2023-05-01'],
  'Microsoft.Storage/storageAccounts/blobServices': ['2023-05-01'],
  'Microsoft.Storage/storageAccounts/blobServices/containers': ['2023-05-01'],
};

/** Key Vault Crypto Service Release User (BD §3; MicrosoftDocs/azure-docs built-in-roles/security.md). */
export const RELEASE_ROLE_ID = '08bbd89e-9f13-488c-ac41-acfcb10c90ab';

/** Confidential VM sizes (BD §1: SNPCVM.json and TDXCVM.json allowedValues). */
const CVM_SIZE = /^Standard_(DC|EC)\d+(as|ads|es|eds)_v5$/;
const SNP_SIZE = /^Standard_(DC|EC)\d+(as|ads)_v5$/;

/** Confidential-capable Linux images (BD §1 table), compared case-insensitively. */
const CVM_IMAGES = [
  { publisher: 'Canonical', offer: 'ubuntu-24_04-lts', sku: 'cvm' },
  { publisher: 'Canonical', offer: '0001-com-ubuntu-confidential-vm-jammy', sku: '22_04-lts-cvm' },
];

/** BD §1, enum SecurityEncryptionTypes; NonPersistedTPM is TDX-only, so it is not offered. */
const ENCRYPTION_TYPES = ['VMGuestStateOnly', 'DiskWithVMGuestState'];

export interface Violation {
  readonly rule: string;
  readonly file: string;
  readonly message: string;
}

/** The templates under test plus read access to the other repository files they load. */
export interface Repo {
  readonly files: readonly BicepFile[];
  readonly root: string;
}

export function readRepoFile(repo: Repo, path: string): string | undefined {
  const full = join(repo.root, path);
  return existsSync(full) ? readFileSync(full, 'utf8') : undefined;
}

export interface Rule {
  readonly id: string;
  readonly check: (repo: Repo) => Violation[];
}

const file = (repo: Repo, path: string): BicepFile | undefined => repo.files.find((f) => f.path === path);
const entryPoints = (repo: Repo): BicepFile[] => repo.files.filter((f) => !f.path.includes('/modules/'));
const resolvePath = (from: BicepFile, relativePath: string): string => normalize(join(dirname(from.path), relativePath)).split('\\').join('/');

/** A literal value, or undefined when the node is not one (evaluated without context). */
function literal(n: SyntaxNode | null | undefined): unknown {
  if (!n) return undefined;
  try {
    return evaluate(n, new Map());
  } catch (e) {
    if (e instanceof Unevaluable) return undefined;
    throw e;
  }
}

/** The values a node can take: its literal value, or the allowed values (else the default) of the parameter it names. */
function possibleValues(f: BicepFile, n: SyntaxNode | null): unknown[] | undefined {
  if (!n) return undefined;
  const lit = literal(n);
  if (lit !== undefined) return [lit];
  if (n.type !== 'identifier') return undefined;
  const p = param(f, n.text);
  if (!p) return undefined;
  return allowedValues(p) ?? (p.defaultValue ? [literal(p.defaultValue)] : undefined);
}

function violation(rule: string, f: BicepFile | string, message: string): Violation {
  return { rule, file: typeof f === 'string' ? f : f.path, message };
}

const syntax: Rule = {
  id: 'syntax',
  check: (repo) =>
    repo.files.flatMap((f) => syntaxProblems(f).map((p) => violation('syntax', f, `${p.kind} at ${p.line}:${p.column}: ${JSON.stringify(p.text)}`))),
};

const apiVersions: Rule = {
  id: 'api-versions',
  check: (repo) =>
    repo.files.flatMap((f) =>
      resources(f).flatMap((r) => {
        const known = Object.entries(DOCUMENTED_API_VERSIONS).find(([t]) => t.toLowerCase() === r.target.toLowerCase())?.[1];
        if (!known) return [violation('api-versions', f, `${r.symbol}: resource type ${r.target} is not in the documented set`)];
        return known.includes(r.apiVersion) ? [] : [violation('api-versions', f, `${r.symbol}: ${r.target}@${r.apiVersion} is not a documented API version (${known.join(', ')})`)];
      }),
    ),
};

const confidentialVm: Rule = {
  id: 'confidential-vm',
  check: (repo) =>
    repo.files.flatMap((f) =>
      resourcesOfType(f, 'Microsoft.Compute/virtualMachines').flatMap((vm) => {
        const out: Violation[] = [];
        const bad = (m: string): void => {
          out.push(violation('confidential-vm', f, `${vm.symbol}: ${m}`));
        };
        const props = property(vm.body, 'properties');
        if (literal(property(props, 'securityProfile.securityType')) !== 'ConfidentialVM') bad('securityProfile.securityType must be ConfidentialVM');
        if (literal(property(props, 'securityProfile.uefiSettings.secureBootEnabled')) !== true) bad('securityProfile.uefiSettings.secureBootEnabled must be true');
        if (literal(property(props, 'securityProfile.uefiSettings.vTpmEnabled')) !== true) bad('securityProfile.uefiSettings.vTpmEnabled must be true');
        const encryption = possibleValues(f, property(props, 'storageProfile.osDisk.managedDisk.securityProfile.securityEncryptionType'));
        if (!encryption?.length || !encryption.every((v) => typeof v === 'string' && ENCRYPTION_TYPES.includes(v))) {
          bad(`storageProfile.osDisk.managedDisk.securityProfile.securityEncryptionType must be set to ${ENCRYPTION_TYPES.join(' or ')}`);
        }
        const sizes = possibleValues(f, property(props, 'hardwareProfile.vmSize'));
        if (!sizes?.every((s) => typeof s === 'string' && CVM_SIZE.test(s))) bad('hardwareProfile.vmSize must be limited to confidential sizes (DC/EC as/ads/es/eds v5)');
        const sizeParam = param(f, property(props, 'hardwareProfile.vmSize')?.text ?? '');
        const sizeDefault = literal(sizeParam?.defaultValue);
        if (typeof sizeDefault !== 'string' || !SNP_SIZE.test(sizeDefault)) bad('the default VM size must be an AMD SEV-SNP size (DCasv5/ECasv5 family)');
        if (literal(property(props, 'osProfile.linuxConfiguration.disablePasswordAuthentication')) !== true) bad('password login must be disabled');
        out.push(...imageViolations(f, vm, property(props, 'storageProfile.imageReference')));
        return out;
      }),
    ),
};

function imageViolations(f: BicepFile, vm: Declaration, ref: SyntaxNode | null): Violation[] {
  const bad = (m: string): Violation[] => [violation('confidential-vm', f, `${vm.symbol}: ${m}`)];
  if (!ref) return bad('storageProfile.imageReference is missing');
  // Either a literal image, or `table[param]` over a variable holding the images.
  let candidates: unknown[];
  const table = ref.type === 'subscript_expression' ? ref.childForFieldName('object') : null;
  if (table?.type === 'identifier' && variables(f).has(table.text)) {
    const value = literal(variables(f).get(table.text));
    candidates = value && typeof value === 'object' ? Object.values(value) : [];
  } else candidates = [literal(ref)];
  const known = (img: unknown): boolean =>
    typeof img === 'object' &&
    img !== null &&
    CVM_IMAGES.some((c) => ['publisher', 'offer', 'sku'].every((k) => String((img as Record<string, unknown>)[k]).toLowerCase() === (c as Record<string, string>)[k]?.toLowerCase()));
  return candidates.length > 0 && candidates.every(known) ? [] : bad('every image must be a documented confidential image (Canonical ubuntu-24_04-lts/cvm or the 22.04 cvm offer)');
}

/** The three copies of the size list (entry points and VM module) must agree; defaults must be SEV-SNP. */
const vmSizeLists: Rule = {
  id: 'vm-sizes',
  check: (repo) => {
    const lists = repo.files.flatMap((f) => {
      const p = param(f, 'vmSize');
      return p ? [{ f, values: allowedValues(p) }] : [];
    });
    const out: Violation[] = [];
    const reference = lists.find((l) => l.f.path.endsWith('modules/cvm.bicep'))?.values;
    for (const { f, values } of lists) {
      if (!values) out.push(violation('vm-sizes', f, 'vmSize has no @allowed list'));
      else if (JSON.stringify(values) !== JSON.stringify(reference)) out.push(violation('vm-sizes', f, 'the vmSize @allowed list differs from modules/cvm.bicep'));
      else if (!values.every((v) => typeof v === 'string' && CVM_SIZE.test(v))) out.push(violation('vm-sizes', f, 'vmSize allows a non-confidential size'));
    }
    return out;
  },
};

const keyRelease: Rule = {
  id: 'key-release',
  check: (repo) => {
    const out: Violation[] = [];
    for (const f of repo.files) {
      for (const key of resourcesOfType(f, 'Microsoft.KeyVault/vaults/keys')) {
        const bad = (m: string): void => {
          out.push(violation('key-release', f, `${key.symbol}: ${m}`));
        };
        const props = property(key.body, 'properties');
        const kty = literal(property(props, 'kty'));
        if (typeof kty !== 'string' || !kty.endsWith('-HSM')) bad('kty must be an HSM key type (RSA-HSM): Secure Key Release needs one (AKV.SKR.1006)');
        if (literal(property(props, 'attributes.exportable')) !== true) bad('attributes.exportable must be true: only exportable keys are released');
        if (literal(property(props, 'release_policy.contentType')) !== 'application/json; charset=utf-8') bad('release_policy.contentType must be application/json; charset=utf-8');
        const data = property(props, 'release_policy.data');
        const text = data ? expand(f, data) : '';
        if (!/base64\(/.test(text) || !text.includes("'+', '-'") || !text.includes("'/', '_'")) bad('release_policy.data must be base64url of the policy JSON');
        if (!identifiersIn(data ?? key.node).includes('releasePolicy') && !/\breleasePolicy\b/.test(text)) bad('release_policy.data must come from the releasePolicy parameter');
      }
    }
    // Entry points: the policy handed to the Key Vault module is loaded from deploy/policies/ and valid for Key Vault.
    for (const f of entryPoints(repo)) {
      for (const m of modules(f).filter((x) => x.target.endsWith('keyvault.bicep'))) {
        const arg = property(m.body, 'params.releasePolicy');
        const sources = arg ? [...expand(f, arg).matchAll(/loadJsonContent\('([^']+)'\)/g)].map((x) => x[1] ?? '') : [];
        const policies = sources.filter((s) => resolvePath(f, s).startsWith('deploy/policies/'));
        if (policies.length === 0) out.push(violation('key-release', f, `${m.symbol}: the release policy must be loaded from deploy/policies/ with loadJsonContent`));
        for (const s of policies) out.push(...policyViolations(repo, f, resolvePath(f, s)));
      }
    }
    return out;
  },
};

function policyViolations(repo: Repo, f: BicepFile, path: string): Violation[] {
  const text = readRepoFile(repo, path);
  if (text === undefined) return [violation('key-release', f, `${path} does not exist`)];
  try {
    const notes = azureCompatibilityNotes(parseReleasePolicy(text));
    return notes.map((n) => violation('key-release', f, `${path}${n.path}: Key Vault would not enforce this: ${n.message}`));
  } catch (e) {
    return [violation('key-release', f, `${path} is not a valid release policy: ${(e as Error).message}`)];
  }
}

const releaseRole: Rule = {
  id: 'release-role',
  check: (repo) => {
    const out: Violation[] = [];
    for (const f of repo.files) {
      const keys = resourcesOfType(f, 'Microsoft.KeyVault/vaults/keys');
      if (keys.length === 0) continue;
      const keySymbols = new Set(keys.map((k) => k.symbol));
      const assignments = resourcesOfType(f, 'Microsoft.Authorization/roleAssignments').filter((a) => {
        const role = property(a.body, 'properties.roleDefinitionId');
        return role ? expand(f, role).includes(RELEASE_ROLE_ID) : false;
      });
      if (assignments.length === 0) out.push(violation('release-role', f, `no role assignment of Key Vault Crypto Service Release User (${RELEASE_ROLE_ID})`));
      for (const a of assignments) {
        const bad = (m: string): void => {
          out.push(violation('release-role', f, `${a.symbol}: ${m}`));
        };
        const role = property(a.body, 'properties.roleDefinitionId');
        if (!role?.text.startsWith("subscriptionResourceId('Microsoft.Authorization/roleDefinitions'")) bad('roleDefinitionId must be subscriptionResourceId(Microsoft.Authorization/roleDefinitions, <guid>)');
        const scope = property(a.body, 'scope');
        if (scope?.type !== 'identifier' || !keySymbols.has(scope.text)) bad('scope must be the key, so the identity can release this key only');
        if (a.condition) bad('the release assignment must not be conditional');
        const principal = property(a.body, 'properties.principalId');
        if (principal?.type !== 'identifier' || !param(f, principal.text)) bad('principalId must be a parameter (the runner identity)');
        if (literal(property(a.body, 'properties.principalType')) !== 'ServicePrincipal') bad("principalType must be 'ServicePrincipal' (a managed identity)");
      }
    }
    return out;
  },
};

/** `<module>.outputs.<name>`: the module symbol, when the node is exactly that. */
function moduleOutput(n: SyntaxNode | null, name: string): string | undefined {
  const m = n?.text.match(/^([A-Za-z_][A-Za-z0-9_]*)\.outputs\.([A-Za-z0-9_]+)$/);
  return m && m[2] === name ? m[1] : undefined;
}

const identityWiring: Rule = {
  id: 'identity-wiring',
  check: (repo) => {
    const out: Violation[] = [];
    for (const f of repo.files) {
      for (const vm of resourcesOfType(f, 'Microsoft.Compute/virtualMachines')) {
        const id = property(vm.body, 'identity');
        if (literal(property(id, 'type')) !== 'UserAssigned') out.push(violation('identity-wiring', f, `${vm.symbol}: identity.type must be UserAssigned`));
        const map = property(id, 'userAssignedIdentities');
        const key = map?.namedChildren.find((c) => c.type === 'object_property')?.namedChildren[0];
        const keyParam = key?.text.match(/^'\$\{([A-Za-z_][A-Za-z0-9_]*)\}'$/)?.[1];
        if (objectKeys(map).length !== 1 || !keyParam || !param(f, keyParam)) {
          out.push(violation('identity-wiring', f, `${vm.symbol}: exactly one user-assigned identity, keyed by a resource-id parameter, must be attached`));
        }
      }
    }
    for (const f of entryPoints(repo)) {
      const identityModules = new Set(modules(f).filter((m) => m.target.endsWith('identity.bicep')).map((m) => m.symbol));
      const runner = modules(f).find((m) => m.symbol === 'runner');
      const runnerIdentity = moduleOutput(property(runner?.body, 'params.identityId'), 'id');
      if (!runnerIdentity || !identityModules.has(runnerIdentity)) {
        out.push(violation('identity-wiring', f, 'the runner VM must get identityId from an identity module output (<identity>.outputs.id)'));
        continue;
      }
      const uses: Array<[string, string]> = [
        ['keyvault.bicep', 'params.releasePrincipalId'],
        ['storage.bicep', 'params.readerPrincipalId'],
      ];
      for (const [target, path] of uses) {
        for (const m of modules(f).filter((x) => x.target.endsWith(target))) {
          if (moduleOutput(property(m.body, path), 'principalId') !== runnerIdentity) {
            out.push(violation('identity-wiring', f, `${m.symbol}.${path.slice('params.'.length)} must be ${runnerIdentity}.outputs.principalId, the identity attached to the runner`));
          }
        }
      }
    }
    return out;
  },
};

/** The identity module attached to the runner VM (`runner` module, params.identityId = <identity>.outputs.id). */
function runnerIdentityOf(f: BicepFile): string | undefined {
  return moduleOutput(property(modules(f).find((m) => m.symbol === 'runner')?.body, 'params.identityId'), 'id');
}

/**
 * The runner configuration each entry point writes can work with the key service it deploys. With a zt4ai KRS: vTPM
 * evidence attested at that KRS (POST /attest/AzureCvm, whose quote binds the KRS's challenge; fresher than AzureGuest,
 * which has none), the key fetched with the runner's managed identity, and the KRS granting keys.release to that
 * identity's object id under Entra ID's v1 issuer of the tenant (README "Running on Azure"). With Key Vault: a
 * releaseSigner, which the runner requires for azure-key-vault (enclave-runner/config/services.ts), and attestation at
 * Azure Attestation (azure-maa: the runner's vTPM evidence then takes MAA's AzureGuest flow).
 */
const keyServiceWiring: Rule = {
  id: 'key-service-wiring',
  check: (repo) =>
    entryPoints(repo).flatMap((f) => {
      const out: Violation[] = [];
      const bad = (message: string) => out.push(violation('key-service-wiring', f, message));
      const runnerConfig = variables(f).get('runnerConfig');
      if (!runnerConfig) return [];
      const kind = literal(property(runnerConfig, 'keySource.kind'));
      const identity = runnerIdentityOf(f);
      if (kind === 'azure-key-vault') {
        const signer = property(runnerConfig, 'keySource.releaseSigner');
        const keys = objectKeys(signer).filter((k) => k === 'caFile' || k === 'pinnedSha256');
        if (keys.length !== 1 || objectKeys(signer).length !== 1) bad('runnerConfig.keySource.releaseSigner must name exactly one of caFile and pinnedSha256: the runner refuses an azure-key-vault source without it');
        const caFile = property(signer, 'caFile');
        if (caFile) {
          const v = caFile.type === 'identifier' ? variables(f).get(caFile.text) : caFile;
          const path = v ? literal(v) : undefined;
          const written = callsOf(f.root, 'loadTextContent')
            .map((c) => stringValue(callArguments(c)[0] ?? c) ?? '')
            .filter((t) => t.includes('/cloud-init/'))
            .some((t) => (readRepoFile(repo, resolvePath(f, t)) ?? '').includes(`- path: ${String(path)}\n`));
          if (typeof path !== 'string' || !path.startsWith('/etc/zt4ai/') || !written) bad('runnerConfig.keySource.releaseSigner.caFile must be a fixed path under /etc/zt4ai/ that the loaded cloud-init template writes');
        }
        if (moduleOutput(property(runnerConfig, 'keySource.managedIdentityClientId'), 'clientId') !== identity) bad('runnerConfig.keySource.managedIdentityClientId must be the runner identity\'s clientId');
        return out;
      }
      if (kind !== 'zt4ai-krs') {
        bad(`runnerConfig.keySource.kind must be zt4ai-krs or azure-key-vault, not ${String(kind)}`);
        return out;
      }
      if (literal(property(runnerConfig, 'evidence.kind')) !== 'azure-vtpm') bad('runnerConfig.evidence must be azure-vtpm on a confidential VM');
      if (literal(property(runnerConfig, 'attestation.kind')) !== 'zt4ai-krs') bad('runnerConfig.attestation.kind must be zt4ai-krs: the KRS template attests vTPM evidence at its own KRS (POST /attest/AzureCvm, whose quote binds the KRS challenge)');
      const krsUrl = property(runnerConfig, 'attestation.url')?.text;
      const keyUrl = property(runnerConfig, 'keySource.url')?.text ?? '';
      if (!krsUrl || !keyUrl.startsWith(`'\${${krsUrl}}/keys/`)) bad('runnerConfig.attestation.url and keySource.url must name the same KRS (<krsUrl> and <krsUrl>/keys/<name>)');
      if (property(runnerConfig, 'keySource.tokenFile')) bad('runnerConfig.keySource must not use a tokenFile: the runner authenticates with its managed identity');
      if (!identity || moduleOutput(property(runnerConfig, 'keySource.managedIdentityClientId'), 'clientId') !== identity) bad('runnerConfig.keySource.managedIdentityClientId must be the runner identity\'s clientId');
      const krsConfig = variables(f).get('krsConfig');
      const jwt = property(krsConfig, 'adminAuth.jwt');
      const issuer = property(jwt, 'issuer');
      if (!issuer || !/^'https:\/\/sts\.windows\.net\/\$\{[A-Za-z_][A-Za-z0-9_]*\}'$/.test(issuer.text)) bad("krsConfig.adminAuth.jwt.issuer must be Entra ID's v1 issuer of the tenant, https://sts.windows.net/<tenant id> (managed identities' tokens)");
      const tenantVar = issuer?.text.match(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/)?.[1];
      if (tenantVar && variables(f).get(tenantVar)?.text !== 'subscription().tenantId') bad(`krsConfig.adminAuth.jwt.issuer: ${tenantVar} must be subscription().tenantId`);
      const resource = property(krsConfig, 'adminAuth.resource');
      if (resource?.type !== 'identifier' || !param(f, resource.text)) bad('krsConfig.adminAuth.resource must be a parameter (the application ID URI of the KRS app registration)');
      const principals = property(jwt, 'principals');
      const grants = (principals?.type === 'array' ? principals.namedChildren : []).filter((c) => c.type === 'object');
      const releasers = grants.filter((g) => ((literal(property(g, 'roles')) as unknown[] | undefined) ?? []).includes('keys.release'));
      if (releasers.length !== 1 || !identity || moduleOutput(property(releasers[0], 'oid'), 'principalId') !== identity) {
        bad('krsConfig.adminAuth.jwt.principals must grant keys.release to exactly one oid, the runner identity\'s principalId');
      }
      for (const g of grants) {
        const roles = (literal(property(g, 'roles')) as unknown[] | undefined) ?? [];
        if (roles.some((r) => r !== 'keys.release')) bad('krsConfig.adminAuth.jwt.principals may grant keys.release only (administration stays with the token made on the KRS VM)');
      }
      return out;
    }),
};

const noPublicIp: Rule = {
  id: 'no-public-ip',
  check: (repo) => {
    const out: Violation[] = [];
    const falseByDefault = (f: BicepFile, n: SyntaxNode | null): boolean => {
      if (!n) return false;
      if (literal(n) === false) return true;
      const p = n.type === 'identifier' ? param(f, n.text) : undefined;
      return p?.type === 'bool' && literal(p.defaultValue) === false;
    };
    for (const f of repo.files) {
      const ips = resourcesOfType(f, 'Microsoft.Network/publicIPAddresses');
      for (const ip of ips) {
        if (!ip.condition) out.push(violation('no-public-ip', f, `${ip.symbol}: a public IP must be conditional (off unless a parameter asks for it)`));
      }
      for (const nic of resourcesOfType(f, 'Microsoft.Network/networkInterfaces')) {
        for (const cfg of property(nic.body, 'properties.ipConfigurations')?.namedChildren ?? []) {
          const pip = property(cfg, 'properties.publicIPAddress');
          if (!pip || literal(pip) === null) continue;
          const guard = pip.type === 'ternary_expression' ? pip.childForFieldName('condition') : null;
          const otherwise = pip.type === 'ternary_expression' ? pip.childForFieldName('alternative') : null;
          if (!guard || literal(otherwise) !== null || !falseByDefault(f, guard)) {
            out.push(violation('no-public-ip', f, `${nic.symbol}: publicIPAddress must be attached only when a bool parameter that defaults to false asks for it`));
          }
        }
      }
    }
    for (const f of entryPoints(repo)) {
      for (const m of modules(f).filter((x) => x.target.endsWith('cvm.bicep'))) {
        const arg = property(m.body, 'params.enablePublicIp');
        if (arg && !falseByDefault(f, arg)) out.push(violation('no-public-ip', f, `${m.symbol}: enablePublicIp must be false or a bool parameter that defaults to false`));
      }
    }
    return out;
  },
};

const keyVault: Rule = {
  id: 'key-vault',
  check: (repo) =>
    repo.files.flatMap((f) =>
      resourcesOfType(f, 'Microsoft.KeyVault/vaults')
        .filter((v) => !v.existing)
        .flatMap((v) => {
          const props = property(v.body, 'properties');
          const expect: Array<[string, unknown, string]> = [
            ['sku.name', 'premium', 'Premium: Secure Key Release needs HSM-backed keys (AKV.SKR.1001)'],
            ['sku.family', 'A', 'family A'],
            ['enableRbacAuthorization', true, 'RBAC: the release role works only with it'],
            ['enablePurgeProtection', true, 'purge protection'],
            ['enableSoftDelete', true, 'soft delete'],
          ];
          return expect.filter(([path, value]) => literal(property(props, path)) !== value).map(([path, value, why]) => violation('key-vault', f, `${v.symbol}: properties.${path} must be ${String(value)} (${why})`));
        }),
    ),
};

const storage: Rule = {
  id: 'storage',
  check: (repo) =>
    repo.files.flatMap((f) => {
      const out: Violation[] = [];
      for (const a of resourcesOfType(f, 'Microsoft.Storage/storageAccounts').filter((x) => !x.existing)) {
        const props = property(a.body, 'properties');
        const expect: Array<[string, unknown]> = [
          ['allowBlobPublicAccess', false],
          ['allowSharedKeyAccess', false],
          ['supportsHttpsTrafficOnly', true],
        ];
        for (const [path, value] of expect) {
          if (literal(property(props, path)) !== value) out.push(violation('storage', f, `${a.symbol}: properties.${path} must be ${String(value)}`));
        }
        if (!['TLS1_2', 'TLS1_3'].includes(String(literal(property(props, 'minimumTlsVersion'))))) out.push(violation('storage', f, `${a.symbol}: properties.minimumTlsVersion must be TLS1_2 or newer`));
      }
      for (const c of resourcesOfType(f, 'Microsoft.Storage/storageAccounts/blobServices/containers')) {
        if (literal(property(c.body, 'properties.publicAccess')) !== 'None') out.push(violation('storage', f, `${c.symbol}: properties.publicAccess must be None`));
      }
      return out;
    }),
};

/** Inbound allow rules never admit the whole internet by default, and an explicit deny-all ends the list. */
const networkRules: Rule = {
  id: 'nsg',
  check: (repo) =>
    repo.files.flatMap((f) => {
      if (resourcesOfType(f, 'Microsoft.Network/networkSecurityGroups').length === 0) return [];
      const out: Violation[] = [];
      let denyAll = false;
      for (const [name, value] of variables(f)) {
        if (literal(property(value, 'properties.direction')) !== 'Inbound') continue;
        const access = literal(property(value, 'properties.access'));
        const source = property(value, 'properties.sourceAddressPrefix');
        if (access === 'Deny' && literal(source) === '*' && literal(property(value, 'properties.destinationPortRange')) === '*') denyAll = true;
        if (access !== 'Allow') continue;
        const values = possibleValues(f, source) ?? [];
        if (values.length === 0 || values.some((v) => v === '*' || v === 'Internet' || v === '0.0.0.0/0')) {
          out.push(violation('nsg', f, `${name}: an inbound allow rule must not admit * or Internet by default`));
        }
      }
      if (!denyAll) out.push(violation('nsg', f, 'an inbound deny-all rule must override Azure\'s default AllowVnetInBound'));
      return out;
    }),
};

const described: Rule = {
  id: 'descriptions',
  check: (repo) =>
    repo.files.flatMap((f) => [
      ...params(f)
        .filter((p) => !p.decorators.has('description'))
        .map((p) => violation('descriptions', f, `parameter ${p.name} has no @description`)),
    ]),
};

/** Files loaded at compile time and module paths exist. */
const loadedFiles: Rule = {
  id: 'loaded-files',
  check: (repo) =>
    repo.files.flatMap((f) => {
      const out: Violation[] = [];
      for (const fn of ['loadTextContent', 'loadJsonContent', 'loadFileAsBase64']) {
        for (const call of callsOf(f.root, fn)) {
          const arg = callArguments(call)[0];
          const path = arg ? stringValue(arg) : undefined;
          if (path === undefined) out.push(violation('loaded-files', f, `${fn} needs a literal path`));
          else if (readRepoFile(repo, resolvePath(f, path)) === undefined) out.push(violation('loaded-files', f, `${fn}('${path}'): ${resolvePath(f, path)} does not exist`));
        }
      }
      for (const m of modules(f)) {
        const target = resolvePath(f, m.target);
        if (!repo.files.some((x) => x.path === target) && readRepoFile(repo, target) === undefined) out.push(violation('loaded-files', f, `module ${m.symbol}: ${target} does not exist`));
      }
      return out;
    }),
};

/** Every __PLACEHOLDER__ of a cloud-init template loaded by an entry point is replaced there, and nothing else is. */
const cloudInitPlaceholders: Rule = {
  id: 'cloud-init',
  check: (repo) =>
    entryPoints(repo).flatMap((f) => {
      const out: Violation[] = [];
      const replaced = new Set(
        callsOf(f.root, 'replace')
          .map((c) => callArguments(c)[1])
          .map((a) => (a ? stringValue(a) : undefined))
          .filter((s): s is string => s !== undefined && /^__[A-Z0-9_]+__$/.test(s)),
      );
      const templates = callsOf(f.root, 'loadTextContent')
        .map((c) => stringValue(callArguments(c)[0] ?? c) ?? '')
        .filter((p) => p.includes('/cloud-init/'));
      const expected = new Set<string>();
      for (const t of templates) {
        const text = readRepoFile(repo, resolvePath(f, t)) ?? '';
        if (!text.startsWith('#cloud-config\n')) out.push(violation('cloud-init', f, `${t} must start with #cloud-config`));
        // Placeholders outside comments: the header documents them too.
        const body = text
          .split('\n')
          .filter((l) => !l.trimStart().startsWith('#'))
          .join('\n');
        for (const m of body.matchAll(/__[A-Z0-9_]+__/g)) expected.add(m[0]);
      }
      for (const p of expected) if (!replaced.has(p)) out.push(violation('cloud-init', f, `${p} is never replaced`));
      for (const p of replaced) if (!expected.has(p)) out.push(violation('cloud-init', f, `${p} is replaced but no loaded cloud-init template uses it`));
      return out;
    }),
};

export const RULES: readonly Rule[] = [
  syntax,
  apiVersions,
  confidentialVm,
  vmSizeLists,
  keyRelease,
  releaseRole,
  identityWiring,
  keyServiceWiring,
  noPublicIp,
  keyVault,
  storage,
  networkRules,
  described,
  loadedFiles,
  cloudInitPlaceholders,
];

export function checkAll(repo: Repo): Violation[] {
  return RULES.flatMap((r) => r.check(repo));
}

export { file as bicepFile };
