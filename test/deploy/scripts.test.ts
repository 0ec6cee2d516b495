/**
 * The shell side of the deployment: syntax (bash -n) and shellcheck for every script, the hardening of the systemd
 * units, the cloud-init templates, and deploy.sh / seal-and-upload.sh driven against a fake `az` and `zt4ai` that
 * record their calls (no Azure here).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const scripts = ['deploy/deploy.sh', 'deploy/seal-and-upload.sh', 'deploy/cloud-init/install-zt4ai.sh'];

const onPath = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).status === 0;
const hasShellcheck = onPath('shellcheck');

describe('shell scripts', () => {
  it.each(scripts)('%s passes bash -n', (script) => {
    const r = spawnSync('bash', ['-n', join(root, script)], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it.each(scripts)('%s is executable and starts with a bash shebang', (script) => {
    expect(readFileSync(join(root, script), 'utf8').startsWith('#!/usr/bin/env bash\n')).toBe(true);
    expect(spawnSync('test', ['-x', join(root, script)]).status).toBe(0);
  });

  // CI installs shellcheck (a Debian package); on a machine without it this test is skipped, not passed.
  it.skipIf(!hasShellcheck).each(scripts)(`%s passes shellcheck${hasShellcheck ? '' : ' (SKIPPED: shellcheck is not on PATH; apt-get install -y shellcheck)'}`, (script) => {
    const r = spawnSync('shellcheck', ['--severity=style', join(root, script)], { encoding: 'utf8' });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});

/** `Key=value` lines of the [Service] section (repeated keys collected). */
function serviceSection(path: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let inService = false;
  for (const raw of readFileSync(join(root, path), 'utf8').split('\n')) {
    const line = raw.trim();
    if (line.startsWith('[')) inService = line === '[Service]';
    if (!inService || line === '' || line.startsWith('#') || !line.includes('=')) continue;
    const key = line.slice(0, line.indexOf('='));
    out.set(key, [...(out.get(key) ?? []), line.slice(line.indexOf('=') + 1)]);
  }
  return out;
}

describe('systemd units', () => {
  const common: Array<[string, string]> = [
    ['NoNewPrivileges', 'yes'],
    ['ProtectSystem', 'strict'],
    ['ProtectHome', 'yes'],
    ['PrivateTmp', 'yes'],
    ['ReadOnlyPaths', '/etc/zt4ai'],
    ['CapabilityBoundingSet', ''],
    ['LimitCORE', '0'],
    ['MemorySwapMax', '0'],
    ['UMask', '0077'],
  ];

  it.each(['deploy/systemd/zt4ai-runner.service', 'deploy/systemd/zt4ai-krs.service'])('%s is hardened', (unit) => {
    const s = serviceSection(unit);
    for (const [k, v] of common) expect(s.get(k), k).toEqual([v]);
    // Breaks V8's JIT; the unit explains why it is absent.
    expect(s.has('MemoryDenyWriteExecute')).toBe(false);
  });

  it('the runner runs as a dynamic user in group tss, sees only /dev/tpmrm0 and keeps its plaintext on tmpfs', () => {
    const s = serviceSection('deploy/systemd/zt4ai-runner.service');
    expect(s.get('DynamicUser')).toEqual(['yes']);
    expect(s.get('SupplementaryGroups')).toEqual(['tss']);
    expect(s.get('DevicePolicy')).toEqual(['closed']);
    expect(s.get('DeviceAllow')).toEqual(['/dev/tpmrm0 rw']);
    expect(s.has('PrivateDevices')).toBe(false);
    expect(s.get('RuntimeDirectory')).toEqual(['zt4ai-runner']);
    expect(s.get('RuntimeDirectoryMode')).toEqual(['0700']);
    expect(s.get('ExecStart')).toEqual(['/usr/bin/zt4ai runner start --config /etc/zt4ai/runner.json']);
    // Only the TCG log copy runs privileged, and it writes into the runtime directory the runner config names.
    expect(s.get('ExecStartPre')).toEqual(["+/bin/sh -c 'install -m 0444 /sys/kernel/security/tpm0/binary_bios_measurements /run/zt4ai-runner/tcg-log.bin || true'"]);
    expect(readFileSync(join(root, 'deploy/systemd/zt4ai-runner.service'), 'utf8')).toContain('nodejs/node#55509');
  });

  it('the KRS keeps its state in a 0700 state directory owned by its own user', () => {
    const s = serviceSection('deploy/systemd/zt4ai-krs.service');
    expect(s.get('User')).toEqual(['zt4ai-krs']);
    expect(s.get('StateDirectory')).toEqual(['zt4ai-krs']);
    expect(s.get('StateDirectoryMode')).toEqual(['0700']);
    expect(s.get('ExecStart')).toEqual(['/usr/bin/zt4ai krs serve --config /etc/zt4ai/krs.json']);
  });
});

describe('cloud-init templates', () => {
  it.each(['deploy/cloud-init/runner.yaml', 'deploy/cloud-init/krs.yaml'])('%s is cloud-config without tabs, and installs what it starts', (path) => {
    const text = readFileSync(join(root, path), 'utf8');
    expect(text.startsWith('#cloud-config\n')).toBe(true);
    expect(text).not.toContain('\t');
    expect(text).toContain("['/usr/local/sbin/zt4ai-install', '__NODE_MAJOR__', '__ZT4AI_PACKAGE__']");
    const unit = path.includes('krs') ? 'zt4ai-krs.service' : 'zt4ai-runner.service';
    expect(text).toContain(`path: /etc/systemd/system/${unit}`);
    expect(text).toContain(`['systemctl', 'enable', '--now', '${unit}']`);
  });

  it('the runner template puts /dev/tpmrm0 in group tss, the KRS template makes its TLS key on the VM', () => {
    expect(readFileSync(join(root, 'deploy/cloud-init/runner.yaml'), 'utf8')).toContain('KERNEL=="tpmrm[0-9]*", GROUP="tss", MODE="0660"');
    const krs = readFileSync(join(root, 'deploy/cloud-init/krs.yaml'), 'utf8');
    expect(krs).toContain("'subjectAltName=IP:__KRS_IP__'");
    expect(krs).toContain("['chmod', '0600', '/var/lib/zt4ai-krs/tls/key.pem']");
  });

  it('the KRS template makes its administrator token on the VM, 0600, before it starts the KRS; the runner template writes the Key Vault release roots', () => {
    const krs = readFileSync(join(root, 'deploy/cloud-init/krs.yaml'), 'utf8');
    const token = krs.indexOf("'umask 077 && test -s /var/lib/zt4ai-krs/admin.token || openssl rand -base64 32 >/var/lib/zt4ai-krs/admin.token'");
    expect(token).toBeGreaterThan(0);
    expect(krs.slice(krs.lastIndexOf('\n', token), token)).toContain("['runuser', '-u', 'zt4ai-krs', '--', 'sh', '-c', ");
    expect(token).toBeLessThan(krs.indexOf("['systemctl', 'enable', '--now', 'zt4ai-krs.service']"));
    expect(readFileSync(join(root, 'deploy/cloud-init/runner.yaml'), 'utf8')).toMatch(/- path: \/etc\/zt4ai\/azure-release-roots\.pem\n\s+owner: root:root\n\s+permissions: '0644'\n\s+encoding: b64\n\s+content: '__AZURE_ROOTS_B64__'/);
  });

  it.each([
    ['deploy/cloud-init/runner.yaml', { __INSTALL_SCRIPT_B64__: 'deploy/cloud-init/install-zt4ai.sh', __RUNNER_UNIT_B64__: 'deploy/systemd/zt4ai-runner.service', __AZURE_ROOTS_B64__: 'deploy/cloud-init/azure-release-roots.pem' }],
    ['deploy/cloud-init/krs.yaml', { __INSTALL_SCRIPT_B64__: 'deploy/cloud-init/install-zt4ai.sh', __KRS_UNIT_B64__: 'deploy/systemd/zt4ai-krs.service' }],
  ])("%s filled in stays well under customData's 65535 bytes, its comments naming no placeholder replace() would fill", (path, files) => {
    const text = readFileSync(join(root, path), 'utf8');
    const comments = text.split('\n').filter((l) => l.trimStart().startsWith('#'));
    expect(comments.flatMap((l) => l.match(/__[A-Z0-9_]+__/g) ?? []).filter((p) => p !== '__NAME__')).toEqual([]);
    let filled = text;
    for (const [placeholder, file] of Object.entries(files)) filled = filled.split(placeholder).join(readFileSync(join(root, file)).toString('base64'));
    // The maximum of osProfile.customData (learn.microsoft.com/azure/templates/microsoft.compute/virtualmachines); 4 KiB left for the config.
    expect(Buffer.from(filled.replace(/__[A-Z0-9_]+__/g, 'x'.repeat(4096))).toString('base64').length).toBeLessThan(65_535);
  });

  it('Node.js comes from the NodeSource apt repository, checked by its signing key', () => {
    const text = readFileSync(join(root, 'deploy/cloud-init/install-zt4ai.sh'), 'utf8');
    expect(text).toContain('https://deb.nodesource.com/gpgkey/nodesource-repo.gpg.key');
    expect(text).toMatch(/deb \[signed-by=\/etc\/apt\/keyrings\/nodesource\.gpg\] https:\/\/deb\.nodesource\.com\/node_\$\{node_major\}\.x nodistro main/);
    expect(text).toContain('tpm2-tools');
  });
});

// --- deploy.sh and seal-and-upload.sh against fakes -------------------------------------------------------------

const work = mkdtempSync(join(tmpdir(), 'zt4ai-deploy-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const FAKE_AZ = String.raw`#!/usr/bin/env bash
printf '%s\n' "az $*" >>"$FAKE_LOG"
case "$*" in
  "account show --query [name, id] --output tsv") [[ -n "$FAKE_LOGGED_OUT" ]] && exit 1; printf 'Test\t0000\n' ;;
  "account show --output none") [[ -n "$FAKE_LOGGED_OUT" ]] && exit 1; exit 0 ;;
  "group show"*) exit 0 ;;
  "deployment group what-if"*) echo "what-if preview" ;;
  "deployment group create"*) ;;
  "deployment group show"*"--output none") exit 0 ;;
  *"--query properties.outputs --output json") echo '{}' ;;
  *properties.outputs.runnerVmName.value*) echo zt4ai-runner ;;
  *properties.outputs.runnerPrivateIp.value*) echo 10.20.1.4 ;;
  *properties.outputs.runnerPublicIp.value*) echo "" ;;
  *properties.outputs.runnerPort.value*) echo 8443 ;;
  *properties.outputs.releasePolicyJson.value*) echo '{"version":"1.0.0"}' ;;
  *properties.outputs.keyId.value*) echo https://v.vault.azure.net/keys/k ;;
  *properties.outputs.maaEndpoint.value*) echo https://sharedeus.eus.attest.azure.net ;;
  *properties.outputs.storageAccountName.value*) echo acct ;;
  *properties.outputs.modelContainerName.value*) echo models ;;
  *properties.outputs.modelBlobPrefix.value*) echo model ;;
  *properties.outputs.keyVaultName.value*) echo v ;;
  *properties.outputs.keyName.value*) echo k ;;
  "storage blob list"*) echo "${'$'}{FAKE_BLOBS:-0}" ;;
  "vm run-command invoke"*) printf 'Enable succeeded: \n[stdout]\n200\n[stderr]\n\n' ;;
  "keyvault key download"*) echo "-----BEGIN PUBLIC KEY-----" >"${'$'}{@: -1}" ;;
  "keyvault key show"*) echo https://v.vault.azure.net/keys/k/0123456789abcdef0123456789abcdef ;;
  "storage blob upload-batch"*) ;;
  *) echo "unexpected: az $*" >&2; exit 3 ;;
esac
`;

const FAKE_ZT4AI = String.raw`#!/usr/bin/env bash
printf '%s\n' "zt4ai $*" >>"$FAKE_LOG"
if [[ "$1 $2" == "model seal" ]]; then mkdir -p "$5"; fi
`;

const bin = join(work, 'bin');
mkdirSync(bin);
for (const [name, text] of [
  ['az', FAKE_AZ],
  ['zt4ai', FAKE_ZT4AI],
] as const) {
  writeFileSync(join(bin, name), text);
  chmodSync(join(bin, name), 0o755);
}
writeFileSync(join(work, 'id.pub'), 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAITEST test\n');
writeFileSync(join(work, 'signer.pub.pem'), '-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----\n');
writeFileSync(join(work, 'signer.pem'), 'not a real key\n');
mkdirSync(join(work, 'model'));
writeFileSync(join(work, 'model', 'weights.bin'), 'w');

let runs = 0;
function run(script: string, args: string[], env: Record<string, string> = {}): { status: number | null; out: string; calls: string[] } {
  const log = join(work, `calls-${++runs}.log`);
  writeFileSync(log, '');
  const r = spawnSync('bash', [join(root, script), ...args], {
    cwd: work,
    encoding: 'utf8',
    input: '',
    env: { PATH: `${bin}${delimiter}${process.env.PATH ?? ''}`, HOME: work, FAKE_LOG: log, ...env },
  });
  return { status: r.status, out: r.stdout + r.stderr, calls: readFileSync(log, 'utf8').split('\n').filter(Boolean) };
}

const deployArgs = ['--resource-group', 'rg', '--name', 'd1', '--ssh-key', 'id.pub', '--signer-pubkey', 'signer.pub.pem', '--set', 'zt4aiPackage=https://files.example/zt4ai.tgz'];
const indexOf = (calls: string[], prefix: string): number => calls.findIndex((c) => c.startsWith(prefix));

describe('deploy/deploy.sh (fake az)', () => {
  it('prints its usage', () => {
    const r = run('deploy/deploy.sh', ['--help']);
    expect(r.status).toBe(0);
    expect(r.out).toContain('usage: deploy/deploy.sh --resource-group');
  });

  it('stops when not logged in', () => {
    const r = run('deploy/deploy.sh', [...deployArgs, '--yes'], { FAKE_LOGGED_OUT: '1' });
    expect(r.status).toBe(1);
    expect(r.out).toContain('az login');
    expect(indexOf(r.calls, 'az deployment group create')).toBe(-1);
  });

  it('previews, then refuses to deploy without a terminal or --yes', () => {
    const r = run('deploy/deploy.sh', deployArgs);
    expect(r.status).toBe(1);
    expect(r.out).toContain('pass --yes');
    expect(indexOf(r.calls, 'az deployment group what-if')).toBeGreaterThanOrEqual(0);
    expect(indexOf(r.calls, 'az deployment group create')).toBe(-1);
  });

  it('refuses a placeholder left in the parameters file', () => {
    const r = run('deploy/deploy.sh', ['--resource-group', 'rg', '--yes']);
    expect(r.status).toBe(1);
    expect(r.out).toContain('adminSshPublicKey is still a placeholder');
    expect(r.calls).toEqual([]);
  });

  it('refuses an Intel TDX size without a TDX release policy', () => {
    const r = run('deploy/deploy.sh', [...deployArgs, '--set', 'vmSize=Standard_DC4es_v5', '--yes']);
    expect(r.status).toBe(1);
    expect(r.out).toContain('Intel TDX size');
    expect(r.calls).toEqual([]);
  });

  it('deploys after the what-if, then says to upload a model when the container is empty', () => {
    const r = run('deploy/deploy.sh', [...deployArgs, '--yes']);
    expect(r.status).toBe(0);
    expect(indexOf(r.calls, 'az account show')).toBe(0);
    expect(indexOf(r.calls, 'az deployment group what-if')).toBeLessThan(indexOf(r.calls, 'az deployment group create'));
    const create = r.calls.find((c) => c.startsWith('az deployment group create')) ?? '';
    expect(create).toContain('--template-file');
    expect(create).toContain('bicep/main.bicep');
    expect(create).toContain('--parameters zt4aiPackage=https://files.example/zt4ai.tgz');
    expect(create).toContain('--parameters adminSshPublicKey=ssh-ed25519');
    expect(r.out).toContain('deploy/seal-and-upload.sh --resource-group rg --deployment d1');
    expect(readFileSync(join(work, 'zt4ai-deploy-d1', 'release-policy.json'), 'utf8')).toBe('{"version":"1.0.0"}\n');
  });

  it('waits for /readyz through az vm run-command and prints the verify command', () => {
    const r = run('deploy/deploy.sh', ['--resource-group', 'rg', '--name', 'd1', '--wait-only']);
    expect(r.status).toBe(0);
    expect(indexOf(r.calls, 'az deployment group create')).toBe(-1);
    const probe = r.calls.find((c) => c.startsWith('az vm run-command invoke')) ?? '';
    expect(probe).toContain('--name zt4ai-runner');
    expect(probe).toContain('https://127.0.0.1:8443/readyz');
    expect(r.out).toContain('zt4ai runner verify https://10.20.1.4:8443 --policy');
  });
});

describe('deploy/seal-and-upload.sh (fake az and zt4ai)', () => {
  const args = ['--resource-group', 'rg', '--deployment', 'd1', '--model', 'model', '--sign-key', 'signer.pem'];

  it('downloads the key, signs, seals to the versioned key id, then uploads with Entra ID auth', () => {
    const r = run('deploy/seal-and-upload.sh', [...args, '--work-dir', join(work, 'seal-1')]);
    expect(r.status).toBe(0);
    const order = ['az keyvault key download', 'zt4ai model sign', 'zt4ai model seal', 'az storage blob upload-batch'].map((p) => indexOf(r.calls, p));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(r.calls.find((c) => c.startsWith('az keyvault key download'))).toContain('--encoding PEM');
    expect(r.calls.find((c) => c.startsWith('zt4ai model seal'))).toContain('--kid https://v.vault.azure.net/keys/k/0123456789abcdef0123456789abcdef');
    const upload = r.calls.find((c) => c.startsWith('az storage blob upload-batch')) ?? '';
    expect(upload).toContain('--auth-mode login');
    expect(upload).toContain('--destination models --destination-path model');
  });

  it('does not overwrite an uploaded model without --replace, and checks before sealing', () => {
    const r = run('deploy/seal-and-upload.sh', [...args, '--work-dir', join(work, 'seal-2')], { FAKE_BLOBS: '1' });
    expect(r.status).toBe(1);
    expect(r.out).toContain('--replace');
    expect(indexOf(r.calls, 'zt4ai model seal')).toBe(-1);
  });
});
