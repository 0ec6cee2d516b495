/**
 * Offline validation of bicep/: every file parses with tree-sitter-bicep, the rules in bicep-rules.ts hold, and each
 * rule catches the deliberately broken copy made for it from the real files. No Bicep compiler is available here
 * (../shared/docs/bicep-deploy.md §7), so `az deployment group what-if` remains the final check, on Azure.
 */
import { X509Certificate, generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { resolveRunnerConfig } from '../../enclave-runner/config/load.js';
import { resolveKrsConfig } from '../../src/krs/config.js';
import { type BicepFile, Unevaluable, defaultEnvironment, evaluate, loadBicepFiles, objectKeys, outputs, param, parseBicep, params, variables } from './bicep-parser.js';
import { DOCUMENTED_API_VERSIONS, RELEASE_ROLE_ID, RULES, type Repo, type Violation, checkAll } from './bicep-rules.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const files = loadBicepFiles(root, 'bicep');
const repo: Repo = { files, root };
const byPath = (path: string): BicepFile => {
  const f = files.find((x) => x.path === path);
  if (!f) throw new Error(`${path} is missing`);
  return f;
};

/** The repository with one template's source edited; the edit must change something. */
function broken(path: string, edit: (source: string) => string): Repo {
  const original = byPath(path).source;
  const source = edit(original);
  if (source === original) throw new Error(`the edit of ${path} changed nothing: the test is stale`);
  return { root, files: files.map((f) => (f.path === path ? parseBicep(path, source) : f)) };
}

const replaceOnce = (from: string | RegExp, to: string) => (s: string) => {
  const count = typeof from === 'string' ? s.split(from).length - 1 : (s.match(new RegExp(from, 'g')) ?? []).length;
  if (count !== 1) throw new Error(`expected exactly one match of ${String(from)}, found ${count}`);
  return s.replace(from, to);
};

const rulesHit = (violations: Violation[]): string[] => [...new Set(violations.map((v) => v.rule))].sort();

/** Values known only on Azure (module outputs, the tenant), stood in to evaluate what a template writes. */
const STAND_IN = {
  tenantId: '72f988bf-0000-4000-8000-00000000000a',
  principalId: 'a1b2c3d4-0000-4000-8000-0000000000b1',
  clientId: '00000000-0000-4000-8000-0000000000c1',
  krsResource: 'api://00000000-0000-4000-8000-0000000000e1',
};

/**
 * The template's variables evaluated with default parameters, module outputs and the tenant stood in: what
 * cloud-init would write on Azure, for the parts the offline evaluator can compute.
 */
function deployedVariables(path: string): Map<string, unknown> {
  const source = byPath(path)
    .source.replace(/\bsubscription\(\)\.tenantId\b/g, `'${STAND_IN.tenantId}'`)
    .replace(/\b(runnerIdentity|identity)\.outputs\.principalId\b/g, `'${STAND_IN.principalId}'`)
    .replace(/\b(runnerIdentity|identity)\.outputs\.clientId\b/g, `'${STAND_IN.clientId}'`)
    .replace(/\bstorage\.outputs\.blobEndpoint\b/g, "'https://zt4aistandin.blob.core.windows.net/'")
    .replace(/\bkeyVault\.outputs\.keyId\b/g, "'https://zt4aikvstandin.vault.azure.net/keys/zt4ai-model-key'");
  const file = parseBicep(path, source);
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const env = defaultEnvironment(file);
  const given = new Map<string, unknown>([
    ['krsResource', STAND_IN.krsResource],
    ['modelSignerPublicKeyPem', publicKey.export({ type: 'spki', format: 'pem' })],
    ['zt4aiPackage', 'https://files.example/zt4ai.tgz'],
    ['maa', 'https://sharedeus.eus.attest.azure.net'],
  ]);
  for (const [k, v] of given) env.set(k, v);
  for (const [name, value] of variables(file)) {
    if (given.has(name)) continue;
    try {
      env.set(name, evaluate(value, env));
    } catch (e) {
      if (!(e instanceof Unevaluable)) throw e;
    }
  }
  return env;
}

describe('bicep/ parses and satisfies every rule', () => {
  it('finds the entry points and modules', () => {
    expect(files.map((f) => f.path)).toEqual([
      'bicep/krs.bicep',
      'bicep/main.bicep',
      'bicep/modules/attestation.bicep',
      'bicep/modules/cvm.bicep',
      'bicep/modules/identity.bicep',
      'bicep/modules/keyvault.bicep',
      'bicep/modules/network.bicep',
      'bicep/modules/storage.bicep',
    ]);
  });

  it.each(files.map((f) => [f.path, f] as const))('%s parses without ERROR or MISSING nodes', (_path, f) => {
    expect(f.root.hasError).toBe(false);
  });

  it('has no rule violations', () => {
    expect(checkAll(repo)).toEqual([]);
  });

  it('keeps the documented API versions in one table, every version a date', () => {
    for (const versions of Object.values(DOCUMENTED_API_VERSIONS)) {
      for (const v of versions) expect(v).toMatch(/^\d{4}-\d{2}-\d{2}(-preview)?$/);
    }
  });
});

describe('each rule catches the template broken for it', () => {
  const cases: Array<[string, string, Repo]> = [
    ['syntax', 'a resource without its closing brace', broken('bicep/modules/identity.bicep', replaceOnce(/\n}\n\n@description\('Resource id/, "\n\n@description('Resource id"))],
    ['syntax', 'a parameter without a type', broken('bicep/main.bicep', replaceOnce("param keyName string = 'zt4ai-model-key'", "param keyName = 'zt4ai-model-key'"))],
    ['confidential-vm', 'vTpmEnabled removed', broken('bicep/modules/cvm.bicep', replaceOnce(/\n\s*vTpmEnabled: true/, ''))],
    ['confidential-vm', 'securityType flipped to TrustedLaunch', broken('bicep/modules/cvm.bicep', replaceOnce("securityType: 'ConfidentialVM'", "securityType: 'TrustedLaunch'"))],
    ['confidential-vm', 'secure boot off', broken('bicep/modules/cvm.bicep', replaceOnce('secureBootEnabled: true', 'secureBootEnabled: false'))],
    ['confidential-vm', 'securityEncryptionType removed', broken('bicep/modules/cvm.bicep', replaceOnce(/\n\s*securityProfile: \{\n\s*securityEncryptionType: securityEncryptionType\n\s*\}/, ''))],
    ['confidential-vm', 'a non-confidential image', broken('bicep/modules/cvm.bicep', replaceOnce("offer: 'ubuntu-24_04-lts'", "offer: 'ubuntu-24_04-lts-gen2'"))],
    ['confidential-vm', 'a TDX default size', broken('bicep/modules/cvm.bicep', replaceOnce("param vmSize string = 'Standard_DC4as_v5'", "param vmSize string = 'Standard_DC4es_v5'"))],
    ['vm-sizes', 'a general-purpose size allowed in main.bicep', broken('bicep/main.bicep', replaceOnce("  'Standard_DC2as_v5'\n", "  'Standard_D2s_v5'\n"))],
    ['release-role', 'the role GUID changed', broken('bicep/modules/keyvault.bicep', replaceOnce(`'${RELEASE_ROLE_ID}'`, "'12338af0-0e69-4776-bea7-57ae8d297424'"))],
    ['release-role', 'the release role scoped to the vault', broken('bicep/modules/keyvault.bicep', replaceOnce(/(name: guid\(key\.id, releasePrincipalId, releaseRoleId\)\n\s*)scope: key/, '$1scope: vault'))],
    ['release-role', 'principalType dropped', broken('bicep/modules/keyvault.bicep', replaceOnce(/\n\s*principalType: 'ServicePrincipal'\n\s*\}\n\}\n\nresource readerAssignment/, "\n  }\n}\n\nresource readerAssignment"))],
    ['key-release', 'a non-exportable key', broken('bicep/modules/keyvault.bicep', replaceOnce('exportable: true', 'exportable: false'))],
    ['key-release', 'a software key', broken('bicep/modules/keyvault.bicep', replaceOnce("kty: 'RSA-HSM'", "kty: 'RSA'"))],
    ['key-release', 'standard base64 instead of base64url', broken('bicep/modules/keyvault.bicep', replaceOnce("var policyBase64Url = replace(replace(replace(base64(policyJson), '+', '-'), '/', '_'), '=', '')", 'var policyBase64Url = base64(policyJson)'))],
    ['key-release', 'the simulator policy attached to a Key Vault key', broken('bicep/main.bicep', replaceOnce("loadJsonContent('../deploy/policies/azure-cvm.json')", "loadJsonContent('../deploy/policies/simulator-dev.json')"))],
    ['key-release', 'a policy written inline instead of loaded from deploy/policies/', broken('bicep/main.bicep', replaceOnce("loadJsonContent('../deploy/policies/azure-cvm.json')", "json('{\"version\":\"1.0.0\",\"anyOf\":[]}')"))],
    ['loaded-files', 'a policy file that does not exist', broken('bicep/main.bicep', replaceOnce("loadJsonContent('../deploy/policies/azure-cvm.json')", "loadJsonContent('../deploy/policies/azure-cvm-typo.json')"))],
    ['identity-wiring', 'the release role given to the model owner instead of the runner identity', broken('bicep/main.bicep', replaceOnce('releasePrincipalId: identity.outputs.principalId', 'releasePrincipalId: modelOwnerPrincipalId'))],
    ['identity-wiring', 'a fixed identity id instead of the parameter', broken('bicep/modules/cvm.bicep', replaceOnce(/'\$\{identityId\}': \{\}/, "'/subscriptions/x/identity': {}"))],
    ['identity-wiring', 'a system-assigned identity on the VM', broken('bicep/modules/cvm.bicep', replaceOnce("type: 'UserAssigned'", "type: 'SystemAssigned'"))],
    ['no-public-ip', 'public IP on by default', broken('bicep/main.bicep', replaceOnce('param enablePublicIp bool = false', 'param enablePublicIp bool = true'))],
    ['no-public-ip', 'an unconditional public IP', broken('bicep/modules/cvm.bicep', replaceOnce("'Microsoft.Network/publicIPAddresses@2024-07-01' = if (enablePublicIp) {", "'Microsoft.Network/publicIPAddresses@2024-07-01' = {"))],
    ['no-public-ip', 'a public IP always attached to the NIC', broken('bicep/modules/cvm.bicep', replaceOnce('publicIPAddress: enablePublicIp ? { id: publicIp.id } : null', 'publicIPAddress: { id: publicIp.id }'))],
    ['no-public-ip', 'the runner module asked for a public IP', broken('bicep/krs.bicep', replaceOnce('enablePublicIp: enablePublicIp', 'enablePublicIp: true'))],
    ['key-vault', 'purge protection off', broken('bicep/modules/keyvault.bicep', replaceOnce('enablePurgeProtection: true', 'enablePurgeProtection: false'))],
    ['key-vault', 'access policies instead of RBAC', broken('bicep/modules/keyvault.bicep', replaceOnce('enableRbacAuthorization: true', 'enableRbacAuthorization: false'))],
    ['key-vault', 'a standard vault', broken('bicep/modules/keyvault.bicep', replaceOnce("name: 'premium'", "name: 'standard'"))],
    ['storage', 'anonymous blob access allowed', broken('bicep/modules/storage.bicep', replaceOnce('allowBlobPublicAccess: false', 'allowBlobPublicAccess: true'))],
    ['storage', 'shared keys allowed', broken('bicep/modules/storage.bicep', replaceOnce('allowSharedKeyAccess: false', 'allowSharedKeyAccess: true'))],
    ['storage', 'a public container', broken('bicep/modules/storage.bicep', replaceOnce("publicAccess: 'None'", "publicAccess: 'Blob'"))],
    ['api-versions', 'an undocumented API version', broken('bicep/modules/network.bicep', replaceOnce("'Microsoft.Network/natGateways@2024-07-01'", "'Microsoft.Network/natGateways@2019-02-01'"))],
    ['api-versions', 'an undocumented resource type', broken('bicep/modules/identity.bicep', replaceOnce("'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31'", "'Microsoft.ManagedIdentity/identities@2023-01-31'"))],
    ['nsg', 'SSH open to the internet by default', broken('bicep/modules/network.bicep', replaceOnce("param sshAllowedSourcePrefix string = ''", "param sshAllowedSourcePrefix string = '*'"))],
    ['nsg', 'no deny-all rule', broken('bicep/modules/network.bicep', replaceOnce("access: 'Deny'", "access: 'Allow'"))],
    ['descriptions', 'a parameter without @description', broken('bicep/main.bicep', replaceOnce("@description('Name of the model key in Key Vault.')\n", ''))],
    ['key-service-wiring', 'the KRS runner configured for Azure Attestation', broken('bicep/krs.bicep', replaceOnce(/(attestation: \{\n\s*kind: )'zt4ai-krs'/, "$1'azure-maa'"))],
    ['key-service-wiring', 'keys.release granted to the KRS identity instead of the runner identity', broken('bicep/krs.bicep', replaceOnce('oid: runnerIdentity.outputs.principalId', 'oid: krsIdentity.outputs.principalId'))],
    ['key-service-wiring', 'the runner key source without its managed identity', broken('bicep/krs.bicep', replaceOnce(/\n\s*managedIdentityClientId: runnerIdentity\.outputs\.clientId\n(\s*\}\n\s*sealedModel)/, '\n$1'))],
    ['key-service-wiring', "Entra ID's v2 issuer, which managed identities' tokens do not carry", broken('bicep/krs.bicep', replaceOnce(/issuer: 'https:\/\/sts\.windows\.net\/(\$\{tenantId\})'/, "issuer: 'https://login.microsoftonline.com/$1/v2.0'"))],
    ['key-service-wiring', 'the administrator role granted to the runner identity', broken('bicep/krs.bicep', replaceOnce(/(roles: \[\n\s*'keys\.release')/, "$1\n            'keys.admin'"))],
    ['key-service-wiring', 'a Key Vault key source without releaseSigner', broken('bicep/main.bicep', replaceOnce(/\n\s*releaseSigner: \{\n\s*caFile: azureReleaseRootsFile\n\s*\}/, ''))],
    ['key-service-wiring', 'a releaseSigner CA file cloud-init does not write', broken('bicep/main.bicep', replaceOnce("var azureReleaseRootsFile = '/etc/zt4ai/azure-release-roots.pem'", "var azureReleaseRootsFile = '/etc/zt4ai/azure-roots.pem'"))],
    ['cloud-init', 'a placeholder never replaced', broken('bicep/main.bicep', replaceOnce("var cloudInit = replace(cloudInit6, '__ZT4AI_PACKAGE__', zt4aiPackage)", 'var cloudInit = cloudInit6'))],
  ];

  // A missing policy file is also a policy that cannot be checked: the one case where two rules speak.
  const alsoHit: Record<string, string[]> = { 'a policy file that does not exist': ['key-release'] };

  it.each(cases)('%s: %s', (rule, what, brokenRepo) => {
    const violations = checkAll(brokenRepo);
    expect(rulesHit(violations)).toEqual([rule, ...(alsoHit[what] ?? [])].sort());
  });

  it('covers every rule with at least one broken copy', () => {
    const covered = new Set(cases.map(([rule]) => rule));
    expect(RULES.map((r) => r.id).filter((id) => !covered.has(id))).toEqual([]);
  });
});

describe('values the templates hand to zt4ai', () => {
  it('the default release policy is the one the tests parse, and both entry points derive the MAA URL from it', () => {
    const main = byPath('bicep/main.bicep');
    expect(variables(main).get('defaultReleasePolicy')?.text).toBe("loadJsonContent('../deploy/policies/azure-cvm.json')");
    expect(variables(main).get('maa')?.text).toContain('effectiveReleasePolicy.anyOf[0].authority');
  });

  it('krs.json, as krs.bicep writes it with default parameters, is accepted by the KRS config parser', () => {
    const env = deployedVariables('bicep/krs.bicep');
    const config = env.get('krsConfig') as Record<string, unknown>;
    expect(config).toBeDefined();
    const resolved = resolveKrsConfig(config, '/');
    expect(resolved.issuer).toBe('https://10.20.1.10:8443');
    expect(resolved.tls).toEqual({ certFile: '/var/lib/zt4ai-krs/tls/cert.pem', keyFile: '/var/lib/zt4ai-krs/tls/key.pem' });
    expect(resolved.requireFreshness).toBe(true);
    // The runner's identity, and only it, may release; administration is the token made on the KRS VM.
    expect(resolved.adminAuth).toEqual({
      tokenFile: '/var/lib/zt4ai-krs/admin.token',
      resource: STAND_IN.krsResource,
      authority: `https://login.microsoftonline.com/${STAND_IN.tenantId}`,
      jwt: { issuer: `https://sts.windows.net/${STAND_IN.tenantId}`, audience: STAND_IN.krsResource, jwksFile: null, rolesClaim: 'roles', principals: [{ oid: STAND_IN.principalId, roles: ['keys.release'] }] },
    });
  });

  it("krs.bicep's runner configuration is accepted by the runner: vTPM evidence attested at the KRS, the key fetched with the managed identity", async () => {
    const config = await resolveRunnerConfig(deployedVariables('bicep/krs.bicep').get('runnerConfig'), '/');
    expect(config.evidence.kind).toBe('azure-vtpm');
    expect(config.attestation).toEqual({ kind: 'zt4ai-krs', url: 'https://10.20.1.10:8443', tlsCaFile: '/etc/zt4ai/krs-ca.pem' });
    expect(config.backend).toEqual({ kind: 'llama', file: 'model.gguf', threads: 2, gpu: 'auto', contextSize: null, parallel: 1, promptFormat: 'auto' });
    expect(config.keySource).toMatchObject({ kind: 'zt4ai-krs', vaultUrl: 'https://10.20.1.10:8443', keyName: 'zt4ai-model-key', tlsCaFile: '/etc/zt4ai/krs-ca.pem', credential: { azure: { managedIdentityClientId: STAND_IN.clientId } }, releaseSigner: { fetch: true } });
  });

  it("main.bicep's runner configuration is accepted by the runner's parser: vTPM evidence to Azure Attestation (AzureGuest), Key Vault with its release roots and RSA_AES_KEY_WRAP_256", async () => {
    const config = await resolveRunnerConfig(deployedVariables('bicep/main.bicep').get('runnerConfig'), '/');
    expect(config.evidence).toMatchObject({ kind: 'azure-vtpm', tcgLog: '/run/zt4ai-runner/tcg-log.bin' });
    expect(config.attestation.kind).toBe('azure-maa');
    expect(config.backend).toMatchObject({ kind: 'llama', file: 'model.gguf', threads: 2 });
    expect(config.keySource).toMatchObject({ kind: 'azure-key-vault', vaultUrl: 'https://zt4aikvstandin.vault.azure.net', keyName: 'zt4ai-model-key', credential: { azure: { managedIdentityClientId: STAND_IN.clientId } }, releaseSigner: { caFile: '/etc/zt4ai/azure-release-roots.pem' } });
    // The vTPM's ephemeral key unwraps only RSA-OAEP with SHA-256 (test/e2e/azure-guest-runner.test.ts runs this path).
    expect(config.keySource.enc).toBe('RSA_AES_KEY_WRAP_256');
  });

  it("Key Vault's release roots are the current root CAs Microsoft lists for Azure's endpoints", () => {
    const pem = readFileSync(join(root, 'deploy/cloud-init/azure-release-roots.pem'), 'utf8');
    const certs = (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map((b) => new X509Certificate(b));
    // SHA-1 thumbprints as published in "Azure Certificate Authority details" (learn.microsoft.com/azure/security/fundamentals/azure-ca-details).
    expect(certs.map((c) => c.fingerprint.replace(/:/g, '')).sort()).toEqual(
      ['A8985D3A65E5E5C4B2D7D66D40C6DD2FB19C5436', 'DF3C24F9BFD666761B268073FE06D1CC8D4F82A4', '7E04DE896A3E666D00E687D33FFAD93BE83D349E', '999A64C37FF47D9FAB95F14769891460EEC4C3C5', '73A5E64A3BFF8316FF0EDCCC618A906E4EAE4D74'].sort(),
    );
    for (const c of certs) {
      expect(c.ca, c.subject).toBe(true);
      expect(c.checkIssued(c), c.subject).toBe(true);
      expect(new Date(c.validTo).getTime(), c.subject).toBeGreaterThan(Date.now());
    }
  });

  it('the runner configuration has the documented fields, in both entry points', () => {
    const doc = readFileSync(join(root, 'docs/deploy-azure.md'), 'utf8');
    const section = doc.slice(doc.indexOf('<!-- runner-config:start -->'), doc.indexOf('<!-- runner-config:end -->'));
    const documented = [...section.matchAll(/^\| `([a-zA-Z]+)` \|/gm)].map((m) => m[1]);
    expect(documented.length).toBeGreaterThan(5);
    for (const path of ['bicep/main.bicep', 'bicep/krs.bicep']) {
      expect(objectKeys(variables(byPath(path)).get('runnerConfig'))).toEqual(documented);
    }
  });

  it('every output deploy/deploy.sh and deploy/seal-and-upload.sh read exists', () => {
    const names = (script: string) => [...readFileSync(join(root, script), 'utf8').matchAll(/\$\(output ([A-Za-z]+)\)/g)].map((m) => m[1] ?? '');
    const main = new Set(outputs(byPath('bicep/main.bicep')).map((o) => o.name));
    const krs = new Set(outputs(byPath('bicep/krs.bicep')).map((o) => o.name));
    const shared = ['runnerVmName', 'runnerPrivateIp', 'runnerPublicIp', 'runnerPort', 'storageAccountName', 'modelContainerName', 'modelBlobPrefix', 'keyName'];
    for (const n of shared) {
      expect(main.has(n), `main.bicep output ${n}`).toBe(true);
      expect(krs.has(n), `krs.bicep output ${n}`).toBe(true);
    }
    for (const n of names('deploy/deploy.sh')) expect(main.has(n) || krs.has(n), `output ${n}`).toBe(true);
    for (const n of names('deploy/seal-and-upload.sh')) expect(main.has(n), `output ${n}`).toBe(true);
  });

  it.each(['main', 'krs'])('deploy/parameters/%s.example.json names real parameters and sets every required one', (name) => {
    const template = byPath(`bicep/${name}.bicep`);
    const doc = JSON.parse(readFileSync(join(root, `deploy/parameters/${name}.example.json`), 'utf8')) as { parameters: Record<string, { value: unknown }> };
    const known = new Set(params(template).map((p) => p.name));
    expect(Object.keys(doc.parameters).filter((k) => !known.has(k))).toEqual([]);
    const required = params(template).filter((p) => !p.defaultValue).map((p) => p.name);
    expect(required.filter((k) => !(k in doc.parameters))).toEqual([]);
    for (const [k, { value }] of Object.entries(doc.parameters)) {
      const p = param(template, k);
      const allowed = p?.decorators.get('allowed')?.[0];
      if (allowed) expect(evaluate(allowed, new Map()), k).toContain(value);
    }
  });
});
