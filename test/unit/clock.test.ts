import path from 'node:path';
import { ESLint, type Linter } from 'eslint';
import { describe, expect, it } from 'vitest';
import { clockFromEnv, clockStartingAt, isoOf, NOW_VARIABLE, systemClock } from '../../src/clock.js';
import { UsageError } from '../../src/errors.js';
import { ROOT } from '../helpers/fixture.js';

describe('the calendar (src/clock.ts)', () => {
  it('is the system clock when TR118_NOW is unset or empty', () => {
    expect(clockFromEnv({})).toBe(systemClock);
    expect(clockFromEnv({ [NOW_VARIABLE]: '' })).toBe(systemClock);
  });

  it.each(['2026-11-25T10:00:00Z', '2026-11-25T11:00:00+01:00', '2026-11-25T10:00:00.000Z', '2026-11-25T10:00Z'])(
    'TR118_NOW=%s pins it to that instant, and it advances in real time from there',
    async (text) => {
      const clock = clockFromEnv({ [NOW_VARIABLE]: text });
      const first = clock();
      expect(Math.abs(first - Date.parse('2026-11-25T10:00:00Z'))).toBeLessThan(1000);
      await new Promise((resolve) => setTimeout(resolve, 30));
      expect(clock() - first).toBeGreaterThanOrEqual(25);
    },
  );

  it.each(['tomorrow', '2026-11-25', '2026-11-25 10:00', '1764064800000', '2026-13-45T99:00:00Z'])(
    'TR118_NOW=%s is a usage error naming the variable and the form expected',
    (text) => {
      expect(() => clockFromEnv({ [NOW_VARIABLE]: text })).toThrow(UsageError);
      expect(() => clockFromEnv({ [NOW_VARIABLE]: text })).toThrow(
        `TR118_NOW: expected an ISO 8601 instant with a zone, e.g. 2026-12-04T12:00:00Z`,
      );
    },
  );

  it('gives ISO instants', () => {
    expect(isoOf(clockStartingAt(Date.parse('2029-01-02T03:04:05Z'))()).slice(0, 16)).toBe('2029-01-02T03:04');
  });
});

describe('lint keeps every calendar reading in src/clock.ts', () => {
  // The rule as the project's eslint.config.js sets it for a file of src/.
  const ruleFor = async (file: string): Promise<unknown> => {
    const config = (await new ESLint({ cwd: ROOT }).calculateConfigForFile(path.join(ROOT, file))) as {
      rules?: Record<string, unknown>;
    };
    return config.rules?.['no-restricted-syntax'];
  };
  const lint = async (code: string) => {
    const rule = (await ruleFor('src/pipeline/index.ts')) as Linter.RuleEntry;
    const eslint = new ESLint({
      overrideConfigFile: true,
      overrideConfig: [{ rules: { 'no-restricted-syntax': rule } }],
    });
    const [result] = await eslint.lintText(code);
    return result!.messages.map((m) => m.message);
  };

  it.each([
    ['Date.now()', 'const t = Date.now();'],
    ['new Date()', 'const d = new Date();'],
    ['Date()', 'const s = Date();'],
  ])('%s is an error', async (_name, code) => {
    const messages = await lint(code);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toContain('src/clock.ts');
  });

  it('applies to every file of src/', async () => {
    expect(await ruleFor('src/pipeline/index.ts')).toBeDefined();
    expect(await ruleFor('src/cache/store.ts')).toEqual(await ruleFor('src/pipeline/index.ts'));
  });

  it.each([
    ['a stamp turned into a Date', 'const d = new Date(1764064800000);'],
    ['a duration', 'const t = performance.now();'],
    ['parsing a date', "const t = Date.parse('2026-11-25T10:00:00Z');"],
  ])('%s is not', async (_name, code) => {
    expect(await lint(code)).toEqual([]);
  });
});
