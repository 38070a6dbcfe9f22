/**
 * `npm run lint` validates every workflow and action.yml with action-validator (scripts/lint-workflows.mjs): the
 * repository's files pass, a broken workflow fails.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  asValidatorReads,
  docWorkflows,
  validate,
  validateText,
  workflowFiles,
} from '../../scripts/lint-workflows.mjs';
import { ROOT, tempDir } from '../helpers/fixture.js';

describe('workflow lint (action-validator)', () => {
  it('checks every workflow under .github/workflows and action.yml, release.yml among them', () => {
    const files = workflowFiles().map((f) => path.relative(ROOT, f));
    expect(files).toEqual(
      expect.arrayContaining(['.github/workflows/ci.yml', '.github/workflows/release.yml', 'action.yml']),
    );
  });

  it.each(workflowFiles().map((f) => [path.relative(ROOT, f), f]))('%s is valid', (_name, file) => {
    const { ok, output } = validate(file);
    expect(ok, output).toBe(true);
  });

  it('a workflow with a misspelt key fails, naming it', () => {
    const file = path.join(tempDir(), 'bad.yml');
    writeFileSync(file, 'name: x\non: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    stepz: []\n');
    const { ok, output } = validate(file);
    expect(ok).toBe(false);
    expect(output).toContain("Additional property 'stepz' is not allowed");
  });

  it('an action.yml is checked as written but for node24, which the validator schema predates', () => {
    const text = readFileSync(path.join(ROOT, 'action.yml'), 'utf8');
    expect(text).toMatch(/^ {2}using: node24$/m);
    expect(asValidatorReads(text)).toBe(text.replace(/^ {2}using: node24$/m, '  using: node20'));
    const broken = path.join(tempDir(), 'action.yml');
    writeFileSync(broken, text.replace('runs:', 'runz:'));
    expect(validate(broken).ok).toBe(false);
  });

  it("finds the workflow examples of README.md and docs/, the README's PR gate among them", () => {
    const names = docWorkflows().map((w) => w.name);
    expect(names.some((n) => n.startsWith('README.md:'))).toBe(true);
    expect(names.length).toBeGreaterThan(1);
  });

  it.each(docWorkflows().map((w) => [w.name, w.text]))('the workflow example at %s is valid', (_name, text) => {
    const { ok, output } = validateText(text);
    expect(ok, output).toBe(true);
  });

  it('an example whose code block is left open takes the text after it and fails', () => {
    const root = tempDir();
    mkdirSync(path.join(root, 'docs'));
    writeFileSync(path.join(root, 'docs', 'a.md'), '# x\n');
    writeFileSync(
      path.join(root, 'README.md'),
      '```yaml\non: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps: [{ run: echo }]\n\n| input | default |\n| --- | --- |\n',
    );
    const [example] = docWorkflows(root);
    expect(example?.name).toBe('README.md:1');
    expect(validateText(example!.text).ok).toBe(false);
  });
});
