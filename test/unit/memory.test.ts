import { describe, expect, it } from 'vitest';
import { formatMiB, logitsBytes } from '../../src/backends/memory.js';
import {
  checkLogitsMemory,
  DEFAULT_MEMORY_BUDGET_FRACTION,
  memoryBudget,
  MEMORY_REFUSE_MULTIPLE,
  type PassShape,
} from '../../src/measure/memory.js';

const MiB = 2 ** 20;

function pass(batch: number, seqLen: number): PassShape {
  return { keyPath: ['scenarios', 's'], label: 'scenarios.s', batch, seqLen };
}

describe('logits size', () => {
  it('is batch × seq_len × vocabulary × 4 bytes (float32)', () => {
    // the issue's case: 256×512 at the fixture's vocabulary 4,096 is 2 GiB of logits (10.6 GB RSS was seen)
    expect(logitsBytes(256, 512, 4096)).toBe(2 * 1024 * MiB);
    expect(formatMiB(logitsBytes(256, 512, 4096))).toBe('2,048 MiB');
    expect(formatMiB(logitsBytes(1, 8, 4096))).toBe('0.125 MiB');
  });
});

describe('memoryBudget', () => {
  it('defaults to a fraction of the machine, or takes limits.memory_budget_mib', () => {
    const machine = 16 * 1024 * MiB;
    expect(memoryBudget(undefined, machine).bytes).toBe(machine * DEFAULT_MEMORY_BUDGET_FRACTION);
    expect(memoryBudget(undefined, machine).source).toContain("an eighth of this machine's 16,384 MiB");
    expect(memoryBudget(512, machine)).toEqual({ bytes: 512 * MiB, source: 'limits.memory_budget_mib 512' });
  });
});

// Budget 512 MiB at vocabulary 4,096: a 1×1024 pass is 16 MiB, 64×512 is 512 MiB (at the budget: fine),
// 65×512 just above it (warn), 256×512 = 2,048 MiB (= 4×: still a warning), 257×512 above 4× (refused).
const CASES: readonly { batch: number; seqLen: number; level: 'ok' | 'warn' | 'refuse' }[] = [
  { batch: 1, seqLen: 1024, level: 'ok' },
  { batch: 64, seqLen: 512, level: 'ok' },
  { batch: 65, seqLen: 512, level: 'warn' },
  { batch: 256, seqLen: 512, level: 'warn' },
  { batch: 257, seqLen: 512, level: 'refuse' },
];

describe('checkLogitsMemory: warn above the budget, refuse above 4× it', () => {
  it.each(CASES)('$batch×$seqLen: $level', ({ batch, seqLen, level }) => {
    const findings = checkLogitsMemory([pass(batch, seqLen)], 4096, memoryBudget(512));
    expect(findings.map((f) => f.level)).toEqual(level === 'ok' ? [] : [level]);
    if (level === 'refuse') {
      expect(MEMORY_REFUSE_MULTIPLE).toBe(4);
      expect(findings[0]!.message).toMatch(
        /^scenarios\.s: a 257×512 pass's logits alone are 2,056 MiB \(batch × seq_len × vocabulary 4096 × 4 bytes\), more than 4× limits\.memory_budget_mib 512, .*: it cannot run here/,
      );
    }
  });
});
