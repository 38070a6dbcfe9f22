/**
 * No import circles, type-only imports included: `npm run lint` runs dependency-cruiser's no-circular rule
 * (.dependency-cruiser.mjs) over the TypeScript, and .ci/run runs `npm run lint` (scripts/check-source.sh). These tests run that same command:
 * on the code base it finds nothing and really resolved every module; on a type-only circle it fails.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, tempDir } from '../helpers/fixture.js';
import { runProcess } from '../helpers/run.js';

const DEPCRUISE = path.join(ROOT, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');
const LINT = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: { lint: string } })
  .scripts.lint;
/** The circle check's arguments as `npm run lint` gives them: `--config FILE` and the folders. */
const CHECK_ARGS =
  LINT.split(' && ')
    .find((command) => command.startsWith('depcruise '))
    ?.split(/\s+/)
    .slice(1) ?? [];
const CONFIG_ARGS = CHECK_ARGS.slice(0, CHECK_ARGS.indexOf('--config') + 2);

interface CruiseJson {
  readonly modules: readonly { readonly source: string }[];
  readonly summary: {
    readonly violations: readonly { readonly rule: { readonly name: string }; readonly from: string }[];
  };
}

describe('import circles and layers', () => {
  it('npm run lint checks the source, tests, benches and scripts with the no-circular config, and CI runs it', () => {
    expect(CONFIG_ARGS).toEqual(['--config', '.dependency-cruiser.mjs']);
    expect(CHECK_ARGS.slice(2)).toEqual(['src', 'test', 'bench', 'scripts']);
    // .ci/run and CI's checks job run scripts/check-source.sh, which runs npm run lint.
    expect(readFileSync(path.join(ROOT, '.ci/run'), 'utf8')).toMatch(/^scripts\/check-source\.sh$/m);
    expect(readFileSync(path.join(ROOT, 'scripts/check-source.sh'), 'utf8')).toMatch(/^npm run lint$/m);
  });

  it('there are none, and every module of src/ was resolved (a .js specifier finds its .ts file)', async () => {
    const ran = await runProcess(process.execPath, [DEPCRUISE, ...CHECK_ARGS, '--output-type', 'json'], {
      cwd: ROOT,
    });
    expect(ran.stderr).toBe('');
    const result = JSON.parse(ran.stdout) as CruiseJson;
    const circles = result.summary.violations.map((v) => `${v.rule.name}: ${v.from}`);
    expect(circles).toEqual([]);
    const sources = (readdirSync(path.join(ROOT, 'src'), { recursive: true }) as string[])
      .filter((file) => file.endsWith('.ts'))
      .map((file) => path.posix.join('src', file.split(path.sep).join('/')));
    expect(sources.length).toBeGreaterThan(50);
    expect(result.modules.map((m) => m.source)).toEqual(expect.arrayContaining(sources));
  });

  it('a circle of type-only imports fails the check, naming the rule and both files', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'a.ts'), "import type { B } from './b.js';\nexport interface A {\n  b: B;\n}\n");
    writeFileSync(path.join(dir, 'b.ts'), "import type { A } from './a.js';\nexport interface B {\n  a?: A;\n}\n");
    const ran = await runProcess(process.execPath, [DEPCRUISE, ...CONFIG_ARGS, dir], { cwd: ROOT });
    expect(ran.status).not.toBe(0);
    expect(ran.stdout).toContain('no-circular');
    expect(ran.stdout).toMatch(/a\.ts[\s\S]*b\.ts|b\.ts[\s\S]*a\.ts/);
  });

  /** A scratch tree of src/ files (the rules match src/ anywhere in a path); `files`: path → source. */
  async function cruise(files: Readonly<Record<string, string>>) {
    const dir = tempDir();
    for (const [file, text] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      writeFileSync(path.join(dir, file), text);
    }
    return runProcess(process.execPath, [DEPCRUISE, ...CONFIG_ARGS, path.join(dir, 'src')], { cwd: ROOT });
  }

  it.each([
    [
      'a lower layer importing a higher one (config from the pipeline)',
      {
        'src/pipeline/index.ts': 'export const RUN = 1;\n',
        'src/config/load.ts': "import { RUN } from '../pipeline/index.js';\nexport const X = RUN;\n",
      },
      'layer-config',
    ],
    [
      'the transport importing an engine family',
      {
        'src/engines/pytorch/index.ts': 'export const P = 1;\n',
        'src/backends/types.ts': "import { P } from '../engines/pytorch/index.js';\nexport const X = P;\n",
      },
      'layer-transport',
    ],
    [
      'one engine family importing another',
      {
        'src/engines/pytorch/index.ts': 'export const P = 1;\n',
        'src/engines/tensorrt/index.ts': "import { P } from '../pytorch/index.js';\nexport const T = P;\n",
      },
      'engine-families-apart',
    ],
    [
      'the Actions toolkit outside src/action and src/github',
      { 'src/pipeline/index.ts': "import * as cache from '@actions/cache';\nexport const C = cache;\n" },
      'actions-toolkit-at-the-edge',
    ],
  ])('fails on %s, naming the rule', async (_name, files, rule) => {
    const ran = await cruise(files);
    expect(ran.status).not.toBe(0);
    expect(ran.stdout).toContain(rule);
  });

  it('passes the same tree when each import goes down a layer', async () => {
    const ran = await cruise({
      'src/config/load.ts': 'export const X = 1;\n',
      'src/pipeline/index.ts': "import { X } from '../config/load.js';\nexport const RUN = X;\n",
      'src/engines/registry.ts': "import { P } from './pytorch/index.js';\nexport const R = P;\n",
      'src/engines/pytorch/index.ts': 'export const P = 1;\n',
    });
    expect(ran.stdout).toContain('no dependency violations found');
    expect(ran.status).toBe(0);
  });
});
