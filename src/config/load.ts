/**
 * Config loading: YAML text → validated, readonly Config. Every error names the file, the key path, the line (where
 * the YAML gives one), the value found and what was expected; it is a UsageError (exit 2), never a stack trace.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  isAlias,
  isCollection,
  isMap,
  isNode,
  isPair,
  isScalar,
  LineCounter,
  parseDocument,
  visit,
  type Alias,
  type Document,
  type Node,
} from 'yaml';
import type { z } from 'zod';
import type { BackendEntry } from '../engines/family.js';
import { familyOf, resolveBackend, type BackendSpec } from '../engines/registry.js';
import { DEFAULT_LOGITS_OUTPUT } from '../engines/spec.js';
import { formatKeyPath, UsageError } from '../errors.js';
import { fixturePath } from '../paths.js';
import {
  configSchema,
  DEFAULT_LOOK_ITERATIONS,
  DEFAULT_MAX_SECONDS,
  LIMITS,
  type LatencyThresholds,
  type Precision,
  type RawConfig,
  type StoppingMode,
} from './schema.js';

export interface Scenario {
  readonly name: string;
  readonly batch: number;
  readonly seqLen: number;
}

/** Where the evaluation tokens come from: a JSON array of ids, or text and a tokenizer. */
export type EvalSource =
  | { readonly kind: 'tokens'; readonly path: string }
  // tokenizer: "bytes", or the absolute path of a tokenizer.json
  | { readonly kind: 'text'; readonly path: string; readonly tokenizer: string };

/**
 * Where the scenarios' rows are cut from: inputs.tokens; else the evaluation text (accuracy.tokens or accuracy.text),
 * which a user gives for their own model; else the bundled fixture's ids (made by the fixture's tokenizer).
 */
export type InputTokensSource =
  | { readonly from: 'inputs.tokens'; readonly path: string }
  | { readonly from: 'accuracy' }
  | { readonly from: 'fixture'; readonly path: string };

/** How model.hf is exported (model.export); part of the export's cache key. */
export interface ExportSettings {
  /** torch.onnx.export(dynamo=True) or the legacy TorchScript tracer (dynamo=False). */
  readonly exporter: Exporter;
  readonly opset: number;
  readonly dynamic: boolean;
  readonly int32Inputs: boolean;
}

export const EXPORTERS = ['dynamo', 'torchscript'] as const;
export type Exporter = (typeof EXPORTERS)[number];

/** Each exporter's well-supported opset in torch 2.x: the dynamo exporter's own default is 18, TorchScript's 17. */
export const DEFAULT_OPSET: Readonly<Record<Exporter, number>> = { dynamo: 18, torchscript: 17 };

/**
 * torch's default exporter (since torch 2.9), so the file measured is the one users deploy (issue 22: on the H200 the
 * TorchScript graph of GPT-2 small ran ~1.9x slower under ONNX Runtime CUDA); dynamic batch and sequence; int64 ids.
 */
export const DEFAULT_EXPORT: ExportSettings = {
  exporter: 'dynamo',
  opset: DEFAULT_OPSET.dynamo,
  dynamic: true,
  int32Inputs: false,
};

/** model.onnx while an export is pending (pipeline/1-prepare.ts replaces it with the exported file before anything reads it). */
export const EXPORT_PENDING = '';

export interface Config {
  /** The file the config came from, or "<built-in default>". */
  readonly source: string;
  readonly model: {
    readonly onnxPath: string;
    readonly name: string;
    readonly contextTokens: number | undefined;
    /** The output read as logits (model.logits_output, default "logits"), for every model of the run. */
    readonly logitsOutput: string;
    /** model.hf: the Hugging Face checkpoint folder the ONNX file came from (the pytorch backends' model). */
    readonly hfPath: string | undefined;
    readonly trustPickle: boolean;
    /** model.allowed_weight_differences: weight names (shell patterns) the checkpoint may lack or add. */
    readonly allowedWeightDifferences: readonly string[];
    /** model.hf is exported to ONNX (model.export, or no model.onnx): onnxPath is EXPORT_PENDING until then. */
    readonly export: ExportSettings | undefined;
  };
  readonly inputTokens: InputTokensSource;
  readonly backends: readonly BackendSpec[];
  /** unavailable_backend: how a configured backend that did not run counts in the verdict. */
  readonly unavailableBackend: 'warn' | 'fail';
  readonly scenarios: readonly Scenario[];
  /**
   * The repetitions a cell runs; under sequential stopping (a same-run A/B), the most it runs: `repetitions` ×
   * `iterations` of the config's passes, in repetitions of `look_iterations` (measurementSchedule).
   */
  readonly repetitions: number;
  /** stopping and max_seconds: when a same-run A/B stops repeating (stored baselines and no base: always fixed). */
  readonly stopping: { readonly mode: StoppingMode; readonly maxSeconds: number };
  readonly warmup: number;
  /** The timed passes of one repetition: the config's `iterations`, or under sequential stopping its `look_iterations`. */
  readonly iterations: number;
  /** end_to_end_passes: GPU workers' end-to-end passes per run (reported, never gated); 0: none. */
  readonly endToEndPasses: number;
  readonly timeoutSeconds: number;
  /** open_timeout_s: how long opening a backend may take. */
  readonly openTimeoutSeconds: number;
  readonly seed: number;
  readonly accuracy: {
    readonly enabled: boolean;
    readonly source: EvalSource;
    readonly maxTokens: number;
    readonly windowTokens: number;
    readonly strideTokens: number;
    readonly reference: string | undefined;
    /** The probe batch whose logits are compared with the reference backend's; undefined when off. */
    readonly parity: { readonly batch: number; readonly seqLen: number } | undefined;
  };
  readonly thresholds: {
    readonly perplexityDeltaFraction: Readonly<Record<Precision, number>>;
    readonly maxDegradedRate: number;
    readonly maxPerplexity: number | undefined;
    readonly maxAbsLogitDelta: number | undefined;
    readonly minTop1Agreement: number | undefined;
    readonly latency: LatencyThresholds;
    readonly maxDegradedRateIncrease: number;
  };
  readonly compare: {
    readonly baseModelPath: string | undefined;
    /** Same-run A/B of the pytorch backends: the base checkpoint folder (compare.base_hf). */
    readonly baseHfPath: string | undefined;
    readonly baselinePath: string | undefined;
    readonly allowEnvironmentChange: boolean;
    readonly missingCell: 'warn' | 'fail';
    readonly storedRegression: 'warn' | 'fail';
    readonly onBadBaseline: 'error' | 'no-baseline';
  };
  readonly report: {
    /** report.baseline_backend: the backend the report's speed-up answer is measured against (default: the reference). */
    readonly baselineBackend: string | undefined;
  };
  readonly limits: {
    /** limits.memory_budget_mib; undefined: the default, a fraction of this machine's memory (measure/memory.ts). */
    readonly memoryBudgetMiB: number | undefined;
  };
  /** The config as written, after defaults: hashed into the manifest and stored in results.json. */
  readonly raw: RawConfig;
  /** "file:line:col" of a key path, for errors found after loading (a missing model file, say). */
  readonly locate: (keyPath: readonly (string | number)[]) => string;
}

/** Same-run A/B: a base model (onnxruntime backends) or base checkpoint (pytorch backends) is measured beside. */
export function isSameRun(config: Pick<Config, 'compare'>): boolean {
  return config.compare.baseModelPath !== undefined || config.compare.baseHfPath !== undefined;
}

/**
 * How many repetitions of how many timed passes a cell runs. Under sequential stopping a repetition is a look, and
 * looks of fewer passes settle clear cells sooner for the same passes (docs/sequential-stopping.md, "Looks of 20
 * passes"): the budget stays the config's `repetitions` × `iterations` per cell, taken `look_iterations` at a time
 * (at most `iterations`; a remainder rounds the repetitions up). Fixed runs keep the config's values exactly.
 */
export function measurementSchedule(
  config: { readonly repetitions: number; readonly iterations: number; readonly lookIterations?: number | undefined },
  sequential: boolean,
): { readonly repetitions: number; readonly iterations: number } {
  if (!sequential) return { repetitions: config.repetitions, iterations: config.iterations };
  const look = Math.min(config.lookIterations ?? DEFAULT_LOOK_ITERATIONS, config.iterations);
  return { repetitions: Math.ceil((config.repetitions * config.iterations) / look), iterations: look };
}

export interface LoadOverrides {
  /** --model: replaces model.onnx; relative to the working directory, not to the config file. */
  readonly modelPath?: string | undefined;
  /** --base-model: same-run A/B against this ONNX; relative to the working directory. */
  readonly baseModelPath?: string | undefined;
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return 'a mapping';
}

const TYPE_WORDS: Readonly<Record<string, string>> = {
  object: 'a mapping',
  array: 'a list',
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
};

/** What a zod issue expected, in words a config author reads. */
function expectation(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${TYPE_WORDS[issue.expected] ?? issue.expected}`;
    case 'too_small': {
      if (issue.origin === 'array') return `expected at least ${String(issue.minimum)} item(s)`;
      if (issue.origin === 'string') return 'expected a non-empty string';
      const op = issue.inclusive === false ? '>' : '≥';
      return `expected a number ${op} ${String(issue.minimum)}`;
    }
    case 'too_big': {
      const op = issue.inclusive === false ? '<' : '≤';
      return `expected a number ${op} ${String(issue.maximum)}`;
    }
    case 'invalid_value':
      return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_format':
      return `expected ${issue.code === 'invalid_format' && issue.format === 'regex' ? issue.message : `a ${issue.format} string`}`;
    case 'invalid_union':
      return 'expected a backend name (a string) or a backend object {name, engine, provider, ...}';
    case 'unrecognized_keys':
      return 'unknown key';
    case 'not_multiple_of':
    case 'invalid_key':
    case 'invalid_element':
    case 'custom':
      return `expected ${issue.message}`;
  }
}

class SourceMap {
  constructor(
    private readonly file: string,
    private readonly doc: Document | undefined,
    private readonly lines: LineCounter | undefined,
  ) {}

  /** Position of the value at keyPath, or of the nearest ancestor that exists; `keyNode` points at a key instead. */
  locate(keyPath: readonly (string | number)[], keyNode = false): string {
    if (!this.doc || !this.lines) return this.file;
    for (let depth = keyPath.length; depth >= 0; depth--) {
      const prefix = keyPath.slice(0, depth);
      const node = this.nodeAt(prefix, keyNode && depth === keyPath.length);
      if (node?.range) {
        const pos = this.lines.linePos(node.range[0]);
        return `${this.file}:${pos.line}:${pos.col}`;
      }
    }
    return this.file;
  }

  valueAt(keyPath: readonly (string | number)[]): unknown {
    const node = this.doc?.getIn(keyPath, true);
    if (node === undefined) return undefined;
    return isScalar(node) ? node.value : (node as { toJSON?: () => unknown }).toJSON?.();
  }

  private nodeAt(keyPath: readonly (string | number)[], keyNode: boolean): Node | undefined {
    if (!this.doc) return undefined;
    if (keyPath.length === 0) return this.doc.contents ?? undefined;
    if (!keyNode) return this.doc.getIn(keyPath, true) as Node | undefined;
    const parent = this.doc.getIn(keyPath.slice(0, -1), true);
    if (!isMap(parent)) return undefined;
    const last = keyPath[keyPath.length - 1];
    const pair = parent.items.find((item) => isPair(item) && isScalar(item.key) && item.key.value === last);
    return pair && isScalar(pair.key) ? pair.key : undefined;
  }
}

/** Most nodes a config may expand to through YAML aliases: far above any real config, far below an alias bomb. */
export const MAX_EXPANDED_NODES = 10_000;
/** yaml's own guard (its default), behind ours. */
const MAX_YAML_ALIAS_COUNT = 100;

/**
 * The alias at which the document, expanded, passes MAX_EXPANDED_NODES (the "billion laughs": each alias repeats an
 * anchor full of aliases), or undefined. Sizes are counted per anchor once, so a bomb costs no more than its text;
 * an alias inside its own anchor (a recursive structure) counts as infinite.
 */
function aliasBomb(doc: Document): Alias | undefined {
  const sizes = new Map<Node, number>();
  const size = (node: unknown): number => {
    if (isAlias(node)) {
      const target = node.resolve(doc);
      return target ? size(target) : 1;
    }
    if (!isNode(node)) return isPair(node) ? size(node.key) + size(node.value) : 1;
    const known = sizes.get(node);
    if (known !== undefined) return known;
    if (!isCollection(node)) return 1;
    sizes.set(node, Infinity); // in progress: reaching it again is recursion
    let total = 1;
    for (const item of node.items) total += size(item);
    sizes.set(node, total);
    return total;
  };
  let expanded = 0;
  let found: Alias | undefined;
  visit(doc, {
    Alias: (_, node) => {
      expanded += size(node);
      if (expanded <= MAX_EXPANDED_NODES) return undefined;
      found = node;
      return visit.BREAK;
    },
  });
  return found;
}

function configError(where: string, keyPath: readonly PropertyKey[], message: string): UsageError {
  return new UsageError(`config error: ${where}: ${formatKeyPath(keyPath)}: ${message}`);
}

/** Parses and validates config text. `file` names it in errors; relative paths resolve against `baseDir`. */
export function parseConfig(text: string, file: string, baseDir: string, overrides: LoadOverrides = {}): Config {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true, uniqueKeys: true });
  const firstError = doc.errors[0];
  if (firstError) {
    const pos = firstError.linePos?.[0];
    const where = pos ? `${file}:${pos.line}:${pos.col}` : file;
    const reason = (firstError.message.split('\n')[0] ?? firstError.message).replace(/ at line \d+, column \d+:?$/, '');
    throw new UsageError(`config error: ${where}: YAML syntax error: ${reason}`);
  }
  const map = new SourceMap(file, doc, lines);
  const bomb = aliasBomb(doc);
  if (bomb) {
    const where = bomb.range
      ? `${file}:${lines.linePos(bomb.range[0]).line}:${lines.linePos(bomb.range[0]).col}`
      : file;
    throw new UsageError(
      `config error: ${where}: YAML aliases expand the config past ${MAX_EXPANDED_NODES} nodes here (an alias bomb?); expected a config without nested or recursive aliases`,
    );
  }
  let data: unknown;
  try {
    // The check above keeps expansion small; yaml's own limit stays on behind it.
    data = doc.toJS({ maxAliasCount: MAX_YAML_ALIAS_COUNT });
  } catch (error) {
    throw new UsageError(
      `config error: ${file}: YAML aliases: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw configError(
      file,
      [],
      `expected a mapping with the keys model, backends, scenarios, …; got ${describeValue(data)}`,
    );
  }

  const parsed = configSchema.safeParse(data);
  if (!parsed.success) {
    const issue = mostUsefulIssue(parsed.error.issues);
    if (!issue) throw configError(file, [], 'invalid config');
    const issuePath = issue.path.filter((k): k is string | number => typeof k !== 'symbol');
    if (issue.code === 'unrecognized_keys') {
      const key = issue.keys[0] ?? '?';
      const keyPath = [...issuePath, key];
      const known = knownKeys(issuePath);
      throw configError(map.locate(keyPath, true), keyPath, `unknown key${known ? `; expected one of ${known}` : ''}`);
    }
    // For a bad record key (a scenario name) the value found is the key itself.
    const got = (issue as KeyIssueMark).badKey === true ? issuePath[issuePath.length - 1] : map.valueAt(issuePath);
    if (issue.code === 'invalid_type' && got === undefined) {
      throw configError(map.locate(issuePath), issuePath, `required key is missing (${expectation(issue)})`);
    }
    throw configError(map.locate(issuePath), issuePath, `${expectation(issue)}; got ${describeValue(got)}`);
  }
  return resolveConfig(parsed.data, file, baseDir, overrides, (p) => map.locate(p));
}

/** Set on an issue about a mapping key itself (a bad scenario name), not its value. */
interface KeyIssueMark {
  readonly badKey?: boolean;
}

/**
 * The issue to report: an unknown key before the "missing key" it usually causes (a typo); inside a union (a
 * backend given as a name or an object), the branch that accepted the value's type, with its full path.
 */
function mostUsefulIssue(
  issues: readonly z.core.$ZodIssue[],
  prefix: readonly PropertyKey[] = [],
): z.core.$ZodIssue | undefined {
  const ordered = [...issues].sort(
    (a, b) => Number(b.code === 'unrecognized_keys') - Number(a.code === 'unrecognized_keys'),
  );
  const first = ordered[0];
  if (!first) return undefined;
  const path = [...prefix, ...first.path];
  if (first.code === 'invalid_union') {
    const branch = first.errors.find(
      (branchIssues) => !branchIssues.some((i) => i.code === 'invalid_type' && i.path.length === 0),
    );
    const inner = branch ? mostUsefulIssue(branch, path) : undefined;
    if (inner) return inner;
  }
  if (first.code === 'invalid_key' || first.code === 'invalid_element') {
    const inner = first.issues[0];
    if (inner) return Object.assign({}, inner, { path, badKey: first.code === 'invalid_key' });
  }
  return { ...first, path };
}

/** The keys allowed at a path, to suggest the right one after a typo. */
function knownKeys(keyPath: readonly (string | number)[]): string | undefined {
  let schema: unknown = configSchema;
  for (const key of keyPath) {
    schema = unwrap(schema);
    const shape = (schema as { shape?: Record<string, unknown> }).shape;
    if (typeof key === 'number') {
      // unwrap() of a zod array already gave its element
      const element = (schema as { element?: unknown }).element ?? schema;
      const options = (unwrap(element) as { options?: unknown[] } | undefined)?.options;
      schema = options?.find((o) => (unwrap(o) as { shape?: unknown }).shape) ?? element;
    } else if (shape && key in shape) {
      schema = shape[key];
    } else {
      const valueType = (schema as { valueType?: unknown }).valueType;
      if (!valueType) return undefined;
      schema = valueType;
    }
  }
  const shape = (unwrap(schema) as { shape?: Record<string, unknown> }).shape;
  return shape ? Object.keys(shape).join(', ') : undefined;
}

function unwrap(schema: unknown): unknown {
  let s = schema as { unwrap?: () => unknown; def?: { innerType?: unknown } } | undefined;
  while (s && (s.def?.innerType !== undefined || typeof s.unwrap === 'function')) {
    s = (s.def?.innerType ?? s.unwrap?.()) as typeof s;
  }
  return s;
}

/** What resolving a config's parts needs: paths from the config's folder, and errors that name the key. */
interface Resolving {
  readonly raw: RawConfig;
  readonly overrides: LoadOverrides;
  readonly resolvePath: (written: string) => string;
  readonly fail: (keyPath: readonly (string | number)[], message: string) => never;
}

function resolveConfig(
  raw: RawConfig,
  file: string,
  baseDir: string,
  overrides: LoadOverrides,
  locate: (keyPath: readonly (string | number)[]) => string,
): Config {
  const r: Resolving = {
    raw,
    overrides,
    resolvePath: (p) => path.resolve(baseDir, p),
    fail: (keyPath, message) => {
      throw configError(locate(keyPath), keyPath, message);
    },
  };
  const model = resolveModel(r);
  const backends = resolveBackends(r, model);
  const scenarios: Scenario[] = Object.entries(raw.scenarios).map(([name, s]) => ({
    name,
    batch: s.batch,
    seqLen: s.seq_len,
  }));
  checkAgainstContext(r, scenarios);
  checkCrossFields(r, backends);
  const inputTokensFile = raw.inputs ? r.resolvePath(raw.inputs.tokens) : fixturePath('heldout.tokens.json');
  const acc = raw.accuracy;
  const inputTokens: InputTokensSource = raw.inputs
    ? { from: 'inputs.tokens', path: inputTokensFile }
    : acc.tokens !== undefined || acc.text !== undefined
      ? { from: 'accuracy' }
      : { from: 'fixture', path: inputTokensFile };
  const compare = resolveCompare(r);
  const stopping = { mode: raw.stopping ?? 'sequential', maxSeconds: raw.max_seconds ?? DEFAULT_MAX_SECONDS } as const;
  const sameRun = isSameRun({ compare });
  const schedule = measurementSchedule(
    { repetitions: raw.repetitions, iterations: raw.iterations, lookIterations: raw.look_iterations },
    sameRun && stopping.mode === 'sequential',
  );
  if (schedule.repetitions > LIMITS.repetitions) {
    r.fail(
      ['look_iterations'],
      `repetitions ${raw.repetitions} × iterations ${raw.iterations} in looks of ${schedule.iterations} passes is ${schedule.repetitions} repetitions, above the limit of ${LIMITS.repetitions}; expected a larger look_iterations or fewer repetitions`,
    );
  }
  return {
    source: file,
    model,
    inputTokens,
    backends,
    scenarios,
    repetitions: schedule.repetitions,
    stopping,
    warmup: raw.warmup,
    iterations: schedule.iterations,
    endToEndPasses: raw.end_to_end_passes,
    timeoutSeconds: raw.timeout_s,
    openTimeoutSeconds: raw.open_timeout_s,
    unavailableBackend: raw.unavailable_backend,
    seed: raw.seed,
    accuracy: resolveAccuracy(r, inputTokensFile),
    thresholds: resolveThresholds(raw),
    compare,
    report: { baselineBackend: raw.report?.baseline_backend },
    limits: { memoryBudgetMiB: raw.limits.memory_budget_mib },
    raw,
    locate,
  };
}

/** model: the file to measure (or the export of model.hf that will be it), its label, context and logits output. */
function resolveModel({ raw, overrides, resolvePath, fail }: Resolving): Config['model'] {
  const hfPath = raw.model.hf !== undefined ? resolvePath(raw.model.hf) : undefined;
  // --model names the file to measure: nothing is exported then.
  const exporting =
    overrides.modelPath === undefined && (raw.model.export !== undefined || raw.model.onnx === undefined);
  if (exporting && raw.model.onnx !== undefined) {
    fail(
      ['model', 'export'],
      'model.export makes the ONNX file from model.hf, and model.onnx names one: keep one of them',
    );
  }
  if (exporting && hfPath === undefined) {
    fail(
      ['model'],
      raw.model.export !== undefined
        ? 'model.export needs model.hf: the Hugging Face checkpoint folder to export'
        : 'expected model.onnx (the ONNX file to measure) or model.hf (a Hugging Face checkpoint folder to export to ONNX)',
    );
  }
  const exportSettings: ExportSettings | undefined = exporting
    ? {
        exporter: raw.model.export?.exporter ?? DEFAULT_EXPORT.exporter,
        opset: raw.model.export?.opset ?? DEFAULT_OPSET[raw.model.export?.exporter ?? DEFAULT_EXPORT.exporter],
        dynamic: raw.model.export?.dynamic ?? DEFAULT_EXPORT.dynamic,
        int32Inputs: raw.model.export?.int32_inputs ?? DEFAULT_EXPORT.int32Inputs,
      }
    : undefined;
  // While exporting, the path is known only once the export is in the artifact cache (pipeline/1-prepare.ts fills it
  // in).
  const onnxPath = overrides.modelPath
    ? path.resolve(overrides.modelPath)
    : raw.model.onnx !== undefined
      ? resolvePath(raw.model.onnx)
      : EXPORT_PENDING;
  return {
    onnxPath,
    // A model given by --model is another model: the config's label would misname it.
    name: (overrides.modelPath ? undefined : raw.model.name) ?? path.basename(exportSettings ? hfPath! : onnxPath),
    export: exportSettings,
    contextTokens: raw.model.context_tokens,
    logitsOutput: raw.model.logits_output ?? DEFAULT_LOGITS_OUTPUT,
    hfPath,
    trustPickle: raw.model.trust_pickle ?? false,
    allowedWeightDifferences: raw.model.allowed_weight_differences ?? [],
  };
}

/** Each entry resolved by its engine family (engines/registry.ts): presets, the family's keys and its rules. */
function resolveBackends(r: Resolving, model: Config['model']): BackendSpec[] {
  const backends = r.raw.backends.map(
    (entry, index) =>
      // The schema checked each key; the shape is the registry's, so its type is not spelled out key by key.
      resolveBackend(entry as string | BackendEntry, {
        index,
        onnxPath: model.onnxPath,
        logitsOutput: model.logitsOutput,
        hfPath: model.hfPath,
        trustPickle: model.trustPickle,
        allowedWeightDifferences: model.allowedWeightDifferences,
        resolvePath: r.resolvePath,
        fail: r.fail,
      }) as BackendSpec,
  );
  const seen = new Map<string, number>();
  backends.forEach((b, i) => {
    const first = seen.get(b.name);
    if (first !== undefined)
      r.fail(['backends', i], `duplicate backend name ${JSON.stringify(b.name)} (also at backends[${first}])`);
    seen.set(b.name, i);
  });
  return backends;
}

/** A model gives garbage past the context it was trained for: no pass may be longer (model.context_tokens). */
function checkAgainstContext({ raw, fail }: Resolving, scenarios: readonly Scenario[]): void {
  const context = raw.model.context_tokens;
  for (const s of scenarios) {
    if (context !== undefined && s.seqLen > context) {
      fail(
        ['scenarios', s.name, 'seq_len'],
        `expected at most model.context_tokens (${context}); got ${s.seqLen}: a model gives garbage past the context it was trained for`,
      );
    }
  }
  const acc = raw.accuracy;
  if (acc.stride > acc.window)
    fail(['accuracy', 'stride'], `expected at most accuracy.window (${acc.window}); got ${acc.stride}`);
  if (context !== undefined && acc.window > context) {
    fail(
      ['accuracy', 'window'],
      `expected at most model.context_tokens (${context}); got ${acc.window}: a window longer than the trained context scores garbage`,
    );
  }
}

/** The rules between keys: thresholds in order, one kind of comparison, every backend's same-run base, names. */
function checkCrossFields({ raw, overrides, fail }: Resolving, backends: readonly BackendSpec[]): void {
  const latency = raw.thresholds.latency;
  if (latency.warn_fraction > latency.fail_fraction) {
    fail(
      ['thresholds', 'latency', 'warn_fraction'],
      `expected at most thresholds.latency.fail_fraction (${latency.fail_fraction}); got ${latency.warn_fraction}`,
    );
  }
  for (const key of ['base_model', 'base_hf'] as const) {
    if (raw.compare[key] !== undefined && raw.compare.baseline !== undefined) {
      fail(
        ['compare', 'baseline'],
        `give either compare.${key} (same-run A/B) or compare.baseline (a stored result), not both`,
      );
    }
  }
  // Same-run A/B pairs every backend with its base, of the kind its family declares (an ONNX file or a checkpoint).
  const has = {
    base_model: overrides.baseModelPath !== undefined || raw.compare.base_model !== undefined,
    base_hf: raw.compare.base_hf !== undefined,
  };
  const missing = has.base_model || has.base_hf ? backends.find((b) => !has[familyOf(b).sameRunBase]) : undefined;
  if (missing) {
    const key = familyOf(missing).sameRunBase;
    fail(
      ['compare', key],
      `same-run A/B needs the base of every backend: backend ${JSON.stringify(missing.name)} (engine ${missing.engine}) needs compare.${key} (${key === 'base_model' ? 'the base ONNX file, or --base-model' : 'the base checkpoint folder'})`,
    );
  }
  const acc = raw.accuracy;
  if (acc.text !== undefined && acc.tokens !== undefined) {
    fail(['accuracy', 'text'], 'give either accuracy.text (with accuracy.tokenizer) or accuracy.tokens, not both');
  }
  if (acc.text !== undefined && acc.tokenizer === undefined) {
    fail(
      ['accuracy', 'tokenizer'],
      'required with accuracy.text: expected "bytes" or the path of a Hugging Face tokenizer.json',
    );
  }
  if (acc.tokenizer !== undefined && acc.text === undefined) {
    fail(['accuracy', 'tokenizer'], 'applies only to accuracy.text, which is missing');
  }
  const context = raw.model.context_tokens;
  if (context !== undefined && acc.parity.seq_len > context) {
    fail(
      ['accuracy', 'parity', 'seq_len'],
      `expected at most model.context_tokens (${context}); got ${acc.parity.seq_len}`,
    );
  }
  const names = backends.map((b) => b.name);
  const named = [
    [['accuracy', 'reference'], acc.reference],
    [['report', 'baseline_backend'], raw.report?.baseline_backend],
  ] as const;
  for (const [keyPath, name] of named) {
    if (name !== undefined && !names.includes(name)) {
      fail(keyPath, `expected the name of a backend in this config (${names.join(', ')}); got ${JSON.stringify(name)}`);
    }
  }
}

function resolveAccuracy({ raw, resolvePath }: Resolving, inputTokensFile: string): Config['accuracy'] {
  const acc = raw.accuracy;
  return {
    enabled: acc.enabled,
    source:
      acc.text !== undefined
        ? {
            kind: 'text',
            path: resolvePath(acc.text),
            tokenizer: acc.tokenizer === 'bytes' ? 'bytes' : resolvePath(acc.tokenizer ?? ''),
          }
        : { kind: 'tokens', path: acc.tokens !== undefined ? resolvePath(acc.tokens) : inputTokensFile },
    maxTokens: acc.max_tokens,
    windowTokens: acc.window,
    strideTokens: acc.stride,
    reference: acc.reference,
    parity: acc.parity.enabled ? { batch: acc.parity.batch, seqLen: acc.parity.seq_len } : undefined,
  };
}

function resolveThresholds(raw: RawConfig): Config['thresholds'] {
  const t = raw.thresholds;
  return {
    perplexityDeltaFraction: { ...t.perplexity_delta_fraction },
    maxDegradedRate: t.max_degraded_rate,
    maxPerplexity: t.max_perplexity,
    maxAbsLogitDelta: t.parity?.max_abs_logit_delta,
    minTop1Agreement: t.parity?.min_top1_agreement,
    latency: {
      failFraction: t.latency.fail_fraction,
      warnFraction: t.latency.warn_fraction,
      minEffectMs: t.latency.min_effect_ms,
      confidence: t.latency.confidence,
      betweenRunsFraction: t.latency.between_runs_fraction,
    },
    maxDegradedRateIncrease: t.max_degraded_rate_increase,
  };
}

function resolveCompare({ raw, overrides, resolvePath }: Resolving): Config['compare'] {
  const c = raw.compare;
  return {
    baseModelPath: overrides.baseModelPath
      ? path.resolve(overrides.baseModelPath)
      : c.base_model !== undefined
        ? resolvePath(c.base_model)
        : undefined,
    baseHfPath: c.base_hf !== undefined ? resolvePath(c.base_hf) : undefined,
    baselinePath: c.baseline !== undefined ? resolvePath(c.baseline) : undefined,
    allowEnvironmentChange: c.allow_environment_change,
    missingCell: c.missing_cell,
    storedRegression: c.stored_regression,
    onBadBaseline: c.on_bad_baseline,
  };
}

/** Reads a config file (exit-2 error if unreadable) and validates it; relative paths resolve against its folder. */
export function loadConfigFile(file: string, overrides: LoadOverrides = {}): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory, expected a YAML file' : String(code);
    throw new UsageError(`config error: ${file}: cannot read the config file: ${why}`);
  }
  return parseConfig(text, file, path.dirname(path.resolve(file)), overrides);
}
