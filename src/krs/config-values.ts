import { resolve } from 'node:path';
import { KrsStartupError } from './errors.js';

/** Readers for one setting each: undefined/null means "not set"; anything else wrong is ERR_CONFIG naming it. */

export const bad = (message: string): KrsStartupError => new KrsStartupError('ERR_CONFIG', message);

export function integer(value: unknown, name: string, min: number, max: number): number | undefined {
  if (value === undefined || value === null) return undefined;
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) throw bad(`${name} must be an integer in ${min}..${max}`);
  return n;
}

export function bool(value: unknown, name: string): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw bad(`${name} must be true or false`);
  return value;
}

export function text(value: unknown, name: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value === '') throw bad(`${name} must be a non-empty string`);
  return value;
}

export function optionalPath(value: unknown, name: string, baseDir: string): string | null {
  const t = text(value, name);
  return t === undefined ? null : resolve(baseDir, t);
}

export function oneOf<T extends string | number>(value: unknown, name: string, allowed: readonly T[]): T | undefined {
  if (value === undefined || value === null) return undefined;
  const v = typeof value === 'string' && typeof allowed[0] === 'number' ? Number(value) : value;
  if (!(allowed as readonly unknown[]).includes(v)) throw bad(`${name} must be one of ${allowed.join(', ')}`);
  return v as T;
}

/** An object setting (or nothing); arrays and scalars are refused. */
export function objectSetting(value: unknown, name: string): Record<string, unknown> | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw bad(`${name} must be an object`);
  return value as Record<string, unknown>;
}

/** Refuses keys outside `known`, so a misspelt setting is an error rather than silently ignored. */
export function onlyKeys(value: Record<string, unknown>, name: string, known: readonly string[]): void {
  for (const key of Object.keys(value)) if (!known.includes(key)) throw bad(`unknown setting "${name}.${key}"`);
}
