import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { EvidenceConfig } from '../config/types.js';
import { RunnerError } from '../errors.js';
import { AZURE_VTPM_DEVICE, AzureVtpmSource } from './azure-vtpm.js';
import { CONFIGFS_TSM_ROOT, ConfigfsTsmSource } from './configfs-tsm.js';
import type { EvidenceSource } from './source.js';

/** Where auto-detection looks (tests point these at a temporary tree). */
export interface ProbePaths {
  readonly configfsTsm: string;
  readonly azureVtpm: string;
}

export const DEFAULT_PROBE_PATHS: ProbePaths = { configfsTsm: CONFIGFS_TSM_ROOT, azureVtpm: AZURE_VTPM_DEVICE };

/**
 * Picks the evidence source. `auto` tries, in order, configfs-tsm (`<tsm>/report`) and the Azure vTPM
 * (`/dev/tpmrm0`, read with tpm2-tools: `{kind: "azure-vtpm"}` names another TCTI, THIM or KDS);
 * the simulator's tree is never detected, only used when the configuration says `simulated`. When nothing
 * is found the error names every path looked at.
 */
export async function selectEvidenceSource(config: EvidenceConfig, probe: ProbePaths = DEFAULT_PROBE_PATHS, timeoutMs?: number): Promise<EvidenceSource> {
  const timing = timeoutMs === undefined ? {} : { timeoutMs };
  switch (config.kind) {
    case 'simulated':
      await requireDir(join(config.path, 'report'), 'ERR_RUNNER_EVIDENCE', "the simulator's configfs-tsm tree has no report/ directory");
      return new ConfigfsTsmSource({ root: config.path, simulated: true, ...timing });
    case 'configfs-tsm':
      await requireDir(join(config.path, 'report'), 'ERR_RUNNER_NO_EVIDENCE_SOURCE', 'configfs-tsm is not available (Linux >= 6.7 with sev-guest, configfs mounted)');
      return new ConfigfsTsmSource({ root: config.path, simulated: false, ...timing });
    case 'azure-vtpm':
      return new AzureVtpmSource({
        ...(config.tcti === null ? {} : { tcti: config.tcti }),
        ...(config.thimUrl === null ? {} : { thimUrl: config.thimUrl }),
        ...(config.kdsUrl === null ? {} : { kdsUrl: config.kdsUrl }),
        ...(config.tcgLog === null ? {} : { tcgLogPath: config.tcgLog }),
        ...timing,
      });
    case 'auto':
      if (await isDir(join(probe.configfsTsm, 'report'))) return new ConfigfsTsmSource({ root: probe.configfsTsm, simulated: false, ...timing });
      if (await exists(probe.azureVtpm)) return new AzureVtpmSource({ tcti: `device:${probe.azureVtpm}`, ...timing });
      throw new RunnerError(
        'ERR_RUNNER_NO_EVIDENCE_SOURCE',
        `no SEV-SNP evidence source found: looked for ${join(probe.configfsTsm, 'report')} (configfs-tsm: Linux >= 6.7 SEV-SNP guest with configfs mounted) and ${probe.azureVtpm} (Azure vTPM). The simulator's tree is used only when the configuration says evidence {"kind": "simulated", "path": "<tree>"}`,
      );
  }
}

async function requireDir(path: string, code: 'ERR_RUNNER_EVIDENCE' | 'ERR_RUNNER_NO_EVIDENCE_SOURCE', why: string): Promise<void> {
  if (!(await isDir(path))) throw new RunnerError(code, `${why}: ${path} is not a directory`);
}

async function isDir(path: string): Promise<boolean> {
  return (await stat(path).catch(() => null))?.isDirectory() ?? false;
}

async function exists(path: string): Promise<boolean> {
  return (await stat(path).catch(() => null)) !== null;
}
