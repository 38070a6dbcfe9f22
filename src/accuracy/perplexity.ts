/**
 * Sliding-window perplexity, exactly defined (docs/verdict.md "Perplexity"):
 * windows of `windowTokens` tokens start every `strideTokens` tokens (but never later than the first unscored
 * target's predecessor); each target token (every token after the first) is scored exactly once, by the first
 * window that holds it with at least one token of context; PPL = exp(mean NLL over scored targets), float64 sums.
 * Pure: no I/O, no timing.
 */

export interface Window {
  /** Tokens [start, end) are fed to the model. */
  readonly start: number;
  readonly end: number;
  /** Targets at absolute positions [scoreFrom, end) are scored (predicted from the logits one position earlier). */
  readonly scoreFrom: number;
}

export function planWindows(tokenCount: number, windowTokens: number, strideTokens: number): Window[] {
  if (!Number.isInteger(windowTokens) || windowTokens < 2)
    throw new RangeError(`window must be an integer ≥ 2, got ${windowTokens}`);
  if (!Number.isInteger(strideTokens) || strideTokens < 1 || strideTokens > windowTokens) {
    throw new RangeError(`stride must be an integer in 1..window (${windowTokens}), got ${strideTokens}`);
  }
  if (tokenCount < 2) throw new RangeError(`perplexity needs at least 2 tokens, got ${tokenCount}`);
  const windows: Window[] = [];
  let scoredUpTo = 1; // position 0 has no context and is never a target
  for (let k = 0; scoredUpTo < tokenCount; k++) {
    // A window never starts past the first unscored target's predecessor: with stride = window, consecutive
    // windows overlap by one token, so the first target of each window still has context.
    const start = Math.min(k * strideTokens, scoredUpTo - 1);
    const end = Math.min(start + windowTokens, tokenCount);
    if (end > scoredUpTo) {
      windows.push({ start, end, scoreFrom: scoredUpTo });
      scoredUpTo = end;
    }
  }
  return windows;
}

/**
 * Sum of −log p(target) over the scored targets of one window, from its float32 logits [1, end-start, vocab].
 * Log-sum-exp is shifted by the row maximum, so large logits do not overflow; sums are float64.
 */
export function windowNll(
  logits: Float32Array,
  vocabSize: number,
  tokens: ArrayLike<number>,
  window: Window,
): { nllSum: number; scored: number } {
  let nllSum = 0;
  let scored = 0;
  for (let target = window.scoreFrom; target < window.end; target++) {
    const row = (target - 1 - window.start) * vocabSize;
    nllSum += rowNll(logits, row, vocabSize, tokens[target] as number);
    scored++;
  }
  return { nllSum, scored };
}

/** −log softmax(logits[row..row+vocab])[targetId], in float64. The hot loop of the accuracy stage. */
export function rowNll(logits: Float32Array, row: number, vocabSize: number, targetId: number): number {
  const end = row + vocabSize;
  let max = -Infinity;
  for (let i = row; i < end; i++) {
    const v = logits[i] as number;
    if (v > max) max = v;
  }
  let sum = 0;
  for (let i = row; i < end; i++) sum += Math.exp((logits[i] as number) - max);
  return max + Math.log(sum) - (logits[row + targetId] as number);
}

export function perplexityFromNll(nllSum: number, scoredTokens: number): number {
  return Math.exp(nllSum / scoredTokens);
}
