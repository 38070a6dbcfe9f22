/**
 * Memory of a run, estimated before it starts: each forward pass's logits [batch, seq_len, vocab] in float32, known
 * once the first backend is open (its vocabulary size). A worker's peak resident memory is several times its logits
 * (measured on the fixture model, whose logits dominate: 5.3× at 8, 32 and 64 × 512 tokens, e.g. 2.8 GB for 512 MiB
 * of logits), so the default budget is a fraction of the machine's memory: a cell above the budget warns, and one
 * above MEMORY_REFUSE_MULTIPLE times it cannot run here and is refused before anything is measured.
 */
import os from 'node:os';
import { formatMiB, logitsBytes } from '../backends/memory.js';

/** Default limits.memory_budget_mib: this share of the machine's memory (an eighth: 5× of it stays below the total). */
export const DEFAULT_MEMORY_BUDGET_FRACTION = 1 / 8;
/** Above this many times the budget (by default: half the machine's memory in logits alone), a cell is refused. */
export const MEMORY_REFUSE_MULTIPLE = 4;

/** The memory this process may use: the machine's, or a container's (cgroup) limit when that is lower. */
export function machineMemoryBytes(): number {
  const total = os.totalmem();
  const constrained = process.constrainedMemory?.() ?? 0;
  return constrained > 0 && constrained < total ? constrained : total;
}

/** One forward pass shape the run will make, and the config key that asks for it. */
export interface PassShape {
  readonly keyPath: readonly (string | number)[];
  /** e.g. "scenarios.batch_long" */
  readonly label: string;
  readonly batch: number;
  readonly seqLen: number;
}

export interface MemoryBudget {
  readonly bytes: number;
  /** How the budget was set, for messages: "limits.memory_budget_mib 512" or the default and the machine's memory. */
  readonly source: string;
}

export function memoryBudget(memoryBudgetMiB: number | undefined, machineBytes = machineMemoryBytes()): MemoryBudget {
  if (memoryBudgetMiB !== undefined) {
    return { bytes: memoryBudgetMiB * 2 ** 20, source: `limits.memory_budget_mib ${memoryBudgetMiB}` };
  }
  const bytes = machineBytes * DEFAULT_MEMORY_BUDGET_FRACTION;
  return {
    bytes,
    source: `the default memory budget ${formatMiB(bytes)} (an eighth of this machine's ${formatMiB(machineBytes)}; limits.memory_budget_mib sets it)`,
  };
}

export interface MemoryFinding {
  readonly pass: PassShape;
  readonly level: 'warn' | 'refuse';
  readonly message: string;
}

/** The passes whose logits exceed the budget (warn) or MEMORY_REFUSE_MULTIPLE times it (refuse). Pure. */
export function checkLogitsMemory(
  passes: readonly PassShape[],
  vocabSize: number,
  budget: MemoryBudget,
): MemoryFinding[] {
  const findings: MemoryFinding[] = [];
  for (const pass of passes) {
    const bytes = logitsBytes(pass.batch, pass.seqLen, vocabSize);
    if (bytes <= budget.bytes) continue;
    const size =
      `a ${pass.batch}×${pass.seqLen} pass's logits alone are ${formatMiB(bytes)} ` +
      `(batch × seq_len × vocabulary ${vocabSize} × 4 bytes)`;
    if (bytes > MEMORY_REFUSE_MULTIPLE * budget.bytes) {
      findings.push({
        pass,
        level: 'refuse',
        message:
          `${pass.label}: ${size}, more than ${MEMORY_REFUSE_MULTIPLE}× ${budget.source}, and a worker needs several ` +
          'times its logits: it cannot run here; expected a smaller batch or seq_len (or a larger limits.memory_budget_mib)',
      });
    } else {
      findings.push({
        pass,
        level: 'warn',
        message:
          `${pass.label}: ${size}, above ${budget.source}; a worker's peak memory is several times its logits ` +
          '(5× on the fixture model): it may be killed for memory',
      });
    }
  }
  return findings;
}
