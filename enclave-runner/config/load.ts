import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { RunnerError } from '../errors.js';
import { backendSection } from './backend.js';
import { apiKeysSection, guardiansSection, limitsSection, sealedModelSection, trustedSignersSection } from './model.js';
import { attestationSection, evidenceSection, keySourceSection } from './services.js';
import { CONFIG_SCHEMA, type RunnerConfig } from './types.js';
import { bad, listen, object, oneOf, onlyKeys, path, text } from './values.js';

const TOP_LEVEL = ['schema', 'listen', 'tls', 'evidence', 'teeKeyBits', 'attestation', 'keySource', 'sealedModel', 'trustedSigners', 'backend', 'modelId', 'systemPrompt', 'guardians', 'apiKeys', 'limits', 'logLevel'];
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const DEFAULT_SYSTEM_PROMPT = 'You are a helpful assistant running inside a confidential VM. Answer briefly.';

/**
 * Validates a configuration object (the parsed JSON file); relative paths are resolved against `baseDir`.
 * Reads the trusted signers' key files. Throws RunnerError(ERR_RUNNER_CONFIG) naming the bad setting.
 */
export async function resolveRunnerConfig(input: unknown, baseDir: string = process.cwd()): Promise<RunnerConfig> {
  const v = object(input, 'the configuration');
  if (!v) throw bad('the configuration must be a JSON object');
  onlyKeys(v, 'the configuration', TOP_LEVEL);
  if (v.schema !== undefined && v.schema !== CONFIG_SCHEMA) throw bad(`schema must be "${CONFIG_SCHEMA}"`);
  const tls = object(v.tls, 'tls');
  if (tls) onlyKeys(tls, 'tls', ['certFile', 'keyFile']);
  const certFile = tls ? path(tls.certFile, 'tls.certFile', baseDir) : null;
  const keyFile = tls ? path(tls.keyFile, 'tls.keyFile', baseDir) : null;
  if (tls && (!certFile || !keyFile)) throw bad('tls needs both certFile and keyFile');
  const modelId = text(v.modelId, 'modelId') ?? 'zt4ai-model';
  if (!/^[\w.:/-]{1,128}$/.test(modelId)) throw bad('modelId must be 1-128 letters, digits and _.:/-');
  const systemPrompt = v.systemPrompt === undefined ? DEFAULT_SYSTEM_PROMPT : v.systemPrompt;
  if (typeof systemPrompt !== 'string' || systemPrompt.length > 64 * 1024) throw bad('systemPrompt must be a string of at most 64 KiB');
  const config: RunnerConfig = {
    listen: listen(v.listen ?? '127.0.0.1:8080'),
    tls: certFile && keyFile ? { certFile, keyFile } : null,
    evidence: evidenceSection(v.evidence, baseDir),
    teeKeyBits: v.teeKeyBits === undefined ? 3072 : teeKeyBits(v.teeKeyBits),
    attestation: attestationSection(v.attestation, baseDir),
    keySource: keySourceSection(v.keySource, baseDir),
    sealedModel: sealedModelSection(v.sealedModel, baseDir),
    trustedSigners: await trustedSignersSection(v.trustedSigners, baseDir),
    backend: backendSection(v.backend),
    modelId,
    systemPrompt,
    guardians: guardiansSection(v.guardians, baseDir),
    apiKeys: apiKeysSection(v.apiKeys),
    limits: limitsSection(v.limits),
    logLevel: oneOf(v.logLevel, 'logLevel', LOG_LEVELS) ?? 'info',
  };
  if (config.backend.kind === 'openai-upstream' && config.sealedModel.unsealTo !== 'tmpfs') {
    throw bad('backend openai-upstream needs sealedModel.unsealTo "tmpfs": the upstream server loads the unsealed files from there');
  }
  return config;
}

function teeKeyBits(value: unknown): 2048 | 3072 {
  if (value !== 2048 && value !== 3072) throw bad('teeKeyBits must be 2048 or 3072');
  return value;
}

/** Reads and validates a JSON config file; paths inside it are relative to the file. */
export async function loadRunnerConfigFile(file: string): Promise<RunnerConfig> {
  let raw: string;
  try {
    raw = await readFile(file, 'utf8');
  } catch (cause) {
    throw new RunnerError('ERR_RUNNER_CONFIG', `cannot read config file "${file}": ${(cause as NodeJS.ErrnoException).code ?? 'error'}`, { cause });
  }
  let doc: unknown;
  try {
    doc = JSON.parse(raw);
  } catch (cause) {
    throw new RunnerError('ERR_RUNNER_CONFIG', `config file "${file}" is not valid JSON`, { cause });
  }
  return resolveRunnerConfig(doc, dirname(resolve(file)));
}
