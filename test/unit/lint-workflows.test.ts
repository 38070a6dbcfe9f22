/**
 * `npm run lint` validates every workflow and action.yml with action-validator (scripts/lint-workflows.mjs): the
 * repository's files pass, a broken workflow fails.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { asValidatorReads, validate, workflowFiles } from '../../scripts/lint-workflows.mjs';
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
});
