/**
 * Every forward-pass shape a run makes, from the config: what the memory check sizes (plannedPasses) and what a
 * family's preparation must cover (passShapes: a TensorRT engine's optimization profile). Pure.
 */
import { planWindows } from '../accuracy/perplexity.js';
import type { Config } from '../config/load.js';
import type { Shape } from '../engines/family.js';
import type { PassShape } from './memory.js';

/** The scenarios, the longest perplexity window and the parity probe, each with the config key it comes from. */
export function plannedPasses(config: Config): PassShape[] {
  const passes: PassShape[] = config.scenarios.map((s) => ({
    keyPath: ['scenarios', s.name],
    label: `scenarios.${s.name}`,
    batch: s.batch,
    seqLen: s.seqLen,
  }));
  if (config.accuracy.enabled) {
    passes.push({
      keyPath: ['accuracy', 'window'],
      label: 'accuracy.window',
      batch: 1,
      seqLen: config.accuracy.windowTokens,
    });
    const probe = config.accuracy.parity;
    if (probe) passes.push({ keyPath: ['accuracy', 'parity'], label: 'accuracy.parity', ...probe });
  }
  return passes;
}

/**
 * Every (batch, sequence) the run gives a backend: the scenarios (timed), and each perplexity window (batch 1, the
 * lengths planWindows cuts the evaluated tokens into) and the parity probe.
 */
export function passShapes(config: Config, accuracyTokenCount: number): { timed: Shape[]; other: Shape[] } {
  const timed = config.scenarios.map((s): Shape => [s.batch, s.seqLen]);
  const other: Shape[] = [];
  if (config.accuracy.enabled && accuracyTokenCount >= 2) {
    const { windowTokens, strideTokens, parity } = config.accuracy;
    const lengths = new Set(planWindows(accuracyTokenCount, windowTokens, strideTokens).map((w) => w.end - w.start));
    for (const length of [...lengths].sort((a, b) => a - b)) other.push([1, length]);
    if (parity) other.push([parity.batch, parity.seqLen]);
  }
  return { timed, other };
}
