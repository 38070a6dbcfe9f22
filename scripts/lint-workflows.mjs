// `npm run lint`'s workflow check: every workflow under .github/workflows/ and action.yml through action-validator
// (@action-validator/cli, GitHub's workflow and action schemas as SchemaStore publishes them, in WASM: no network).
// One exception, said here and in the output: the schema bundled in action-validator 0.6.0 predates `runs.using:
// node24` (GitHub's runners run it since 2025), so action.yml is checked with node24 read as node20 — everything else
// in it is checked as written. Exit 1 naming each file that fails, with the validator's report.
//   node scripts/lint-workflows.mjs [FILE…]   (default: .github/workflows/*.yml|yaml and action.yml)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const VALIDATOR = path.join(ROOT, 'node_modules/@action-validator/cli/cli.mjs');

/** The files `npm run lint` checks: every workflow, and the Action's metadata. */
export function workflowFiles(root = ROOT) {
  const dir = path.join(root, '.github/workflows');
  const workflows = readdirSync(dir)
    .filter((file) => /\.ya?ml$/.test(file))
    .sort()
    .map((file) => path.join(dir, file));
  return [...workflows, path.join(root, 'action.yml')];
}

/**
 * The workflow examples of the README and docs/*.md: every ```yaml block with a top-level `jobs:` key, as
 * { name, text } (name: file and the block's first line). A user copies these; an example that is not a valid
 * workflow, or a block left open that swallows the text after it, is a defect like a broken workflow file.
 */
export function docWorkflows(root = ROOT) {
  const docs = [
    'README.md',
    ...readdirSync(path.join(root, 'docs'))
      .filter((f) => f.endsWith('.md'))
      .sort()
      .map((f) => `docs/${f}`),
  ];
  const found = [];
  for (const doc of docs) {
    const lines = readFileSync(path.join(root, doc), 'utf8').split('\n');
    for (let i = 0; i < lines.length; i++) {
      if (lines[i].trim() !== '```yaml') continue;
      const end = lines.findIndex((line, j) => j > i && line.trim().startsWith('```'));
      const body = lines.slice(i + 1, end === -1 ? lines.length : end);
      if (body.some((line) => /^jobs:/.test(line)))
        found.push({ name: `${doc}:${i + 1}`, text: `${body.join('\n')}\n` });
      if (end !== -1) i = end;
    }
  }
  return found;
}

/** Validates a workflow given as text (written to a scratch file): { ok, output }. */
export function validateText(text) {
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'tr118-lint-'));
  try {
    const file = path.join(scratch, 'workflow.yml');
    writeFileSync(file, text);
    return validate(file);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** A node24 action as the validator's older schema can read it (node20), or the text as it is. */
export function asValidatorReads(text) {
  return text.replace(/^(\s+using:\s*)['"]?node24['"]?\s*$/m, '$1node20');
}

/** Runs the validator on `file`: { ok, output }. An action.yml is read through asValidatorReads. */
export function validate(file) {
  let target = file;
  let scratch;
  const text = readFileSync(file, 'utf8');
  if (path.basename(file) === 'action.yml' && asValidatorReads(text) !== text) {
    scratch = mkdtempSync(path.join(os.tmpdir(), 'tr118-lint-'));
    target = path.join(scratch, 'action.yml');
    writeFileSync(target, asValidatorReads(text));
  }
  try {
    const ran = spawnSync(process.execPath, [VALIDATOR, target], { encoding: 'utf8' });
    return { ok: ran.status === 0, output: `${ran.stdout ?? ''}${ran.stderr ?? ''}`.trim() };
  } finally {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const files = process.argv.length > 2 ? process.argv.slice(2).map((f) => path.resolve(f)) : workflowFiles();
  let failed = 0;
  for (const file of files) {
    const { ok, output } = validate(file);
    const name = path.relative(process.cwd(), file);
    if (ok) continue;
    failed += 1;
    console.error(`${name}: not a valid GitHub workflow or action (action-validator):\n${output}`);
  }
  const examples = process.argv.length > 2 ? [] : docWorkflows();
  for (const { name, text } of examples) {
    const { ok, output } = validateText(text);
    if (ok) continue;
    failed += 1;
    console.error(`${name}: this workflow example is not a valid GitHub workflow (action-validator):\n${output}`);
  }
  console.log(
    `action-validator: ${failed === 0 ? 'all valid' : `${failed} not valid`}: ${files.length} files and ${examples.length} workflow examples in README.md and docs/`,
  );
  process.exit(failed > 0 ? 1 : 0);
}
