/**
 * The self-test workflow: every test tier of package.json as a parallel job, the source checks (scripts/check-source.sh),
 * and a job that runs the Action from this repository (`uses: ./`) on the bundled default with inputs that action.yml
 * declares, then checks its verdict output.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { INPUTS, OUTPUTS } from '../../src/github/inputs.js';
import { ROOT } from '../helpers/fixture.js';

interface Step {
  id?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, unknown>;
}
interface Workflow {
  jobs?: Record<string, { steps?: Step[]; strategy?: { matrix?: { tier?: string[] } } }>;
}

const WORKFLOW_FILE = path.join(ROOT, '.github/workflows/ci.yml');
const workflow = (existsSync(WORKFLOW_FILE) ? parseYaml(readFileSync(WORKFLOW_FILE, 'utf8')) : {}) as Workflow;
const jobs = Object.entries(workflow.jobs ?? {});

describe('.github/workflows/ci.yml', () => {
  it('has a job that runs the source checks (typecheck, lint, the dist/ check)', () => {
    const runs = jobs.flatMap(([, job]) => job.steps ?? []).map((step) => step.run?.trim());
    expect(runs).toContain('scripts/check-source.sh');
  });

  it("runs every test tier of package.json as a job of its own (all but test:load, .ci/run's one-machine check)", () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    const tiers = Object.keys(pkg.scripts)
      .filter((name) => name.startsWith('test:') && name !== 'test:load')
      .map((name) => name.slice('test:'.length));
    const [, testJob] = jobs.find(([, job]) => job.strategy?.matrix?.tier) ?? [];
    expect(testJob?.strategy?.matrix?.tier?.slice().sort()).toEqual(tiers.sort());
    expect((testJob?.steps ?? []).map((step) => step.run?.trim())).toContain('npm run test:${{ matrix.tier }}');
  });

  it('runs the Action from the repository on the bundled default, with inputs action.yml declares', () => {
    const selfTests = jobs.filter(([, job]) => (job.steps ?? []).some((step) => step.uses === './'));
    expect(selfTests.map(([name]) => name)).toHaveLength(1);
    const steps = selfTests[0]?.[1].steps ?? [];
    const index = steps.findIndex((step) => step.uses === './');
    const action = steps[index];
    const declared: string[] = Object.values(INPUTS);
    const keys = Object.keys(action?.with ?? {});
    expect(keys.filter((key) => !declared.includes(key))).toEqual([]);
    expect(keys).not.toContain(INPUTS.config);
    expect(action?.with?.[INPUTS.failOn]).toBe('fail');

    // A later step reads its verdict output.
    expect(action?.id).toBeTruthy();
    const later = JSON.stringify(steps.slice(index + 1));
    expect(later).toContain(`steps.${action?.id ?? ''}.outputs.${OUTPUTS.verdict}`);
  });
});
