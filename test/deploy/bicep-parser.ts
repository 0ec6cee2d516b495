/**
 * A small query layer over tree-sitter-bicep parse trees, for the offline checks of bicep/ (no Bicep compiler is
 * available here: ../shared/docs/bicep-deploy.md §7). It finds declarations, reads object properties by path and
 * evaluates the literal part of Bicep expressions. Syntax only: a wrong property name or enum value parses fine.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import type Parser from 'tree-sitter';

export type SyntaxNode = Parser.SyntaxNode;

const require = createRequire(import.meta.url);
const TreeSitter = require('tree-sitter') as typeof Parser;
const bicepLanguage = require('tree-sitter-bicep') as Parser.Language;

const parser = new TreeSitter();
parser.setLanguage(bicepLanguage);

export interface BicepFile {
  /** Path relative to the repository root, with forward slashes (e.g. `bicep/modules/cvm.bicep`). */
  readonly path: string;
  readonly source: string;
  readonly root: SyntaxNode;
}

export function parseBicep(path: string, source: string): BicepFile {
  return { path, source, root: parser.parse(source).rootNode };
}

/** Every `.bicep` file under `dir` (recursively), parsed; paths relative to `repoRoot`. */
export function loadBicepFiles(repoRoot: string, dir: string): BicepFile[] {
  const walk = (d: string): string[] =>
    readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(d, e.name)) : e.name.endsWith('.bicep') ? [join(d, e.name)] : []));
  return walk(join(repoRoot, dir))
    .sort()
    .map((p) => parseBicep(relative(repoRoot, p).split('\\').join('/'), readFileSync(p, 'utf8')));
}

export interface SyntaxProblem {
  readonly kind: 'ERROR' | 'MISSING';
  readonly line: number;
  readonly column: number;
  readonly text: string;
}

/** ERROR and MISSING nodes, with 1-based positions. */
export function syntaxProblems(file: BicepFile): SyntaxProblem[] {
  const out: SyntaxProblem[] = [];
  const visit = (n: SyntaxNode): void => {
    if (n.type === 'ERROR' || n.isMissing) {
      out.push({ kind: n.isMissing ? 'MISSING' : 'ERROR', line: n.startPosition.row + 1, column: n.startPosition.column + 1, text: n.text.slice(0, 80) });
    }
    for (const c of n.children) visit(c);
  };
  visit(file.root);
  return out;
}

const named = (n: SyntaxNode): SyntaxNode[] => n.namedChildren.filter((c) => c.type !== 'comment');

/** The decorators written right before a declaration: name → argument nodes. */
function decoratorsOf(decl: SyntaxNode): Map<string, SyntaxNode[]> {
  const out = new Map<string, SyntaxNode[]>();
  let prev = decl.previousNamedSibling;
  while (prev?.type === 'comment') prev = prev.previousNamedSibling;
  if (prev?.type !== 'decorators') return out;
  for (const d of named(prev)) {
    const call = named(d)[0];
    const fn = call?.childForFieldName('function');
    const args = call?.childForFieldName('arguments');
    if (fn && args) out.set(fn.text.replace(/^sys\./, ''), named(args));
  }
  return out;
}

export interface ParamDecl {
  readonly name: string;
  readonly type: string;
  readonly defaultValue: SyntaxNode | null;
  readonly decorators: Map<string, SyntaxNode[]>;
  readonly node: SyntaxNode;
}

export function params(file: BicepFile): ParamDecl[] {
  return named(file.root)
    .filter((n) => n.type === 'parameter_declaration')
    .map((n) => {
      const [id, type, value] = named(n);
      return { name: id?.text ?? '', type: type?.text ?? '', defaultValue: value ?? null, decorators: decoratorsOf(n), node: n };
    });
}

export function param(file: BicepFile, name: string): ParamDecl | undefined {
  return params(file).find((p) => p.name === name);
}

/** `@allowed([...])` values of a parameter, or undefined when it has none. */
export function allowedValues(p: ParamDecl): unknown[] | undefined {
  const arg = p.decorators.get('allowed')?.[0];
  if (!arg) return undefined;
  const v = evaluate(arg, new Map());
  return Array.isArray(v) ? v : undefined;
}

export function variables(file: BicepFile): Map<string, SyntaxNode> {
  const out = new Map<string, SyntaxNode>();
  for (const n of named(file.root)) {
    if (n.type !== 'variable_declaration') continue;
    const [id, value] = named(n);
    if (id && value) out.set(id.text, value);
  }
  return out;
}

export interface OutputDecl {
  readonly name: string;
  readonly type: string;
  readonly value: SyntaxNode | null;
}

export function outputs(file: BicepFile): OutputDecl[] {
  return named(file.root)
    .filter((n) => n.type === 'output_declaration')
    .map((n) => {
      const [id, type, value] = named(n);
      return { name: id?.text ?? '', type: type?.text ?? '', value: value ?? null };
    });
}

export interface Declaration {
  readonly symbol: string;
  /** Resource type (`Microsoft.Compute/virtualMachines`) or module path (`modules/cvm.bicep`). */
  readonly target: string;
  /** Resource API version, '' for modules. */
  readonly apiVersion: string;
  readonly existing: boolean;
  /** The expression in `if (...)`, or null when unconditional. */
  readonly condition: SyntaxNode | null;
  readonly body: SyntaxNode | null;
  readonly node: SyntaxNode;
}

function declaration(n: SyntaxNode): Declaration {
  const parts = named(n);
  const symbol = parts[0]?.text ?? '';
  const typeString = parts[1] ? (stringValue(parts[1]) ?? '') : '';
  const [target = '', apiVersion = ''] = n.type === 'resource_declaration' ? typeString.split('@') : [typeString, ''];
  const last = parts.at(-1);
  let condition: SyntaxNode | null = null;
  let body: SyntaxNode | null = null;
  if (last?.type === 'object') body = last;
  else if (last?.type === 'if_statement') {
    const [cond, obj] = named(last);
    condition = cond?.type === 'parenthesized_expression' ? (named(cond)[0] ?? null) : (cond ?? null);
    body = obj?.type === 'object' ? obj : null;
  }
  const existing = n.children.some((c) => !c.isNamed && c.type === 'existing');
  return { symbol, target, apiVersion, existing, condition, body, node: n };
}

/** Every resource declaration, nested ones included. */
export function resources(file: BicepFile): Declaration[] {
  return file.root.descendantsOfType('resource_declaration').map(declaration);
}

export function resourcesOfType(file: BicepFile, type: string): Declaration[] {
  return resources(file).filter((r) => r.target.toLowerCase() === type.toLowerCase());
}

export function modules(file: BicepFile): Declaration[] {
  return named(file.root)
    .filter((n) => n.type === 'module_declaration')
    .map(declaration);
}

/** The key of an object property: identifier or string literal. */
function propertyKey(prop: SyntaxNode): string | undefined {
  const key = named(prop)[0];
  if (!key) return undefined;
  return key.type === 'string' ? stringValue(key) : key.text;
}

/** The value node of `path` (dot-separated keys) inside an object node, or null. */
export function property(obj: SyntaxNode | null | undefined, path: string): SyntaxNode | null {
  let cur: SyntaxNode | null | undefined = obj;
  for (const key of path.split('.')) {
    if (cur?.type !== 'object') return null;
    const prop: SyntaxNode | undefined = named(cur).find((p) => p.type === 'object_property' && propertyKey(p) === key);
    cur = prop ? named(prop)[1] : null;
  }
  return cur ?? null;
}

/** Keys of an object node, in order. */
export function objectKeys(obj: SyntaxNode | null | undefined): string[] {
  if (obj?.type !== 'object') return [];
  return named(obj)
    .filter((p) => p.type === 'object_property')
    .map((p) => propertyKey(p) ?? '');
}

const ESCAPES: Record<string, string> = { "\\'": "'", '\\\\': '\\', '\\n': '\n', '\\r': '\r', '\\t': '\t', '\\$': '$' };

/** The value of a string literal without interpolation, else undefined. */
export function stringValue(n: SyntaxNode): string | undefined {
  if (n.type !== 'string') return undefined;
  let out = '';
  for (const c of n.namedChildren) {
    if (c.type === 'string_content') out += c.text;
    else if (c.type === 'escape_sequence') out += ESCAPES[c.text] ?? c.text;
    else return undefined;
  }
  return out;
}

/** Identifiers used in an expression: not function names, object keys or property names. */
export function identifiersIn(n: SyntaxNode): string[] {
  const out: string[] = [];
  const visit = (x: SyntaxNode): void => {
    if (x.type === 'identifier') {
      out.push(x.text);
      return;
    }
    const skip = x.type === 'call_expression' ? x.childForFieldName('function') : x.type === 'object_property' ? named(x)[0] : null;
    for (const c of x.namedChildren) if (!(skip && c.id === skip.id)) visit(c);
  };
  visit(n);
  return out;
}

/** Calls of function `name` inside an expression (the node itself included). */
export function callsOf(n: SyntaxNode, name: string): SyntaxNode[] {
  const calls = n.type === 'call_expression' ? [n, ...n.descendantsOfType('call_expression')] : n.descendantsOfType('call_expression');
  return calls.filter((c) => c.childForFieldName('function')?.text === name);
}

export function callArguments(call: SyntaxNode): SyntaxNode[] {
  const args = call.childForFieldName('arguments');
  return args ? named(args) : [];
}

/**
 * The expression with every variable it uses inlined, transitively, as source text: what a rule reads to see where
 * a value really comes from (a parameter, a module output, a loaded file). Parameters stay as names.
 */
export function expand(file: BicepFile, n: SyntaxNode, seen: Set<string> = new Set()): string {
  const vars = variables(file);
  let text = n.text;
  for (const id of new Set(identifiersIn(n))) {
    const v = vars.get(id);
    if (!v || seen.has(id)) continue;
    text += `\n/* ${id} = */ ${expand(file, v, new Set([...seen, id]))}`;
  }
  return text;
}

export class Unevaluable extends Error {}

/**
 * Evaluates the literal part of Bicep: strings (with interpolation), numbers, booleans, null, arrays, objects,
 * identifiers bound in `env`, parentheses, `!`, `==`/`!=`, `?:` and `string()`. Anything else throws Unevaluable.
 */
export function evaluate(n: SyntaxNode, env: ReadonlyMap<string, unknown>): unknown {
  switch (n.type) {
    case 'string': {
      let out = '';
      for (const c of n.namedChildren) {
        if (c.type === 'string_content') out += c.text;
        else if (c.type === 'escape_sequence') out += ESCAPES[c.text] ?? c.text;
        else if (c.type === 'interpolation') out += bicepString(evaluate(named(c)[0] ?? c, env));
      }
      return out;
    }
    case 'number':
      return Number(n.text);
    case 'boolean':
      return n.text === 'true';
    case 'null':
      return null;
    case 'array':
      return named(n).map((c) => evaluate(c, env));
    case 'object':
      return Object.fromEntries(
        named(n)
          .filter((p) => p.type === 'object_property')
          .map((p) => {
            const value = named(p)[1];
            if (!value) throw new Unevaluable(p.text);
            return [propertyKey(p) ?? '', evaluate(value, env)];
          }),
      );
    case 'identifier':
      if (env.has(n.text)) return env.get(n.text);
      throw new Unevaluable(`unbound identifier ${n.text}`);
    case 'parenthesized_expression':
      return evaluate(named(n)[0] ?? n, env);
    case 'unary_expression': {
      const arg = n.childForFieldName('argument');
      if (n.childForFieldName('operator')?.text === '!' && arg) return !evaluate(arg, env);
      break;
    }
    case 'binary_expression': {
      const [l, r] = named(n);
      const op = n.children.find((c) => !c.isNamed)?.text;
      if (l && r && (op === '==' || op === '!=')) return (evaluate(l, env) === evaluate(r, env)) === (op === '==');
      break;
    }
    case 'ternary_expression': {
      const [c, a, b] = [n.childForFieldName('condition'), n.childForFieldName('consequence'), n.childForFieldName('alternative')];
      if (c && a && b) return evaluate(c, env) ? evaluate(a, env) : evaluate(b, env);
      break;
    }
    case 'call_expression': {
      const args = callArguments(n);
      if (n.childForFieldName('function')?.text === 'string' && args[0]) return bicepString(evaluate(args[0], env));
      break;
    }
  }
  throw new Unevaluable(`${n.type}: ${n.text.slice(0, 60)}`);
}

function bicepString(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** Parameter defaults that evaluate without context, by name (parameters without a usable default are left out). */
export function defaultEnvironment(file: BicepFile): Map<string, unknown> {
  const env = new Map<string, unknown>();
  for (const p of params(file)) {
    if (!p.defaultValue) continue;
    try {
      env.set(p.name, evaluate(p.defaultValue, env));
    } catch (e) {
      if (!(e instanceof Unevaluable)) throw e;
    }
  }
  return env;
}
