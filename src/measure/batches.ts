/**
 * Scenario batches: rows of real tokens cut from held-out text, each row from a different place, so a batch is
 * never one prompt repeated; no padding, so every token counted in throughput is a real one. Pure.
 */

export interface ScenarioBatch {
  readonly batch: number;
  readonly seqLen: number;
  /** Row-major [batch, seqLen]. */
  readonly inputIds: number[];
  readonly attentionMask: (0 | 1)[];
  /** Tokens the model really processes (the attention mask's sum): what throughput counts. */
  readonly realTokens: number;
}

/** Fewest tokens needed for `batch` distinct rows of `seqLen`. */
export function tokensNeeded(batch: number, seqLen: number): number {
  return seqLen + batch - 1;
}

/**
 * Row b starts at an offset spread evenly over the text, so rows overlap as little as the text allows and differ
 * in content (distinct starting offsets of natural text give distinct rows).
 */
export function scenarioBatch(tokens: readonly number[], batch: number, seqLen: number): ScenarioBatch {
  const needed = tokensNeeded(batch, seqLen);
  if (tokens.length < needed) {
    throw new RangeError(
      `a ${batch}×${seqLen} batch of distinct rows needs at least ${needed} tokens; the token file has ${tokens.length}`,
    );
  }
  const span = tokens.length - seqLen;
  const inputIds: number[] = [];
  for (let b = 0; b < batch; b++) {
    const offset = Math.floor((b * span) / Math.max(batch - 1, 1));
    for (let i = 0; i < seqLen; i++) inputIds.push(tokens[offset + i] as number);
  }
  const attentionMask = new Array<0 | 1>(batch * seqLen).fill(1);
  return { batch, seqLen, inputIds, attentionMask, realTokens: attentionMask.reduce<number>((a, m) => a + m, 0) };
}
