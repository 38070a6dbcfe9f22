/** Logits parity of a backend against the reference on the same probe batch. Pure. */

export interface Parity {
  /** max |candidate − reference| over every logit. */
  readonly maxAbsDelta: number;
  readonly meanAbsDelta: number;
  /** Share of positions whose arg-max token is the same. */
  readonly top1Agreement: number;
  readonly positions: number;
}

export function logitsParity(reference: Float32Array, candidate: Float32Array, vocabSize: number): Parity {
  if (reference.length !== candidate.length || reference.length % vocabSize !== 0) {
    throw new RangeError(
      `logits of different shapes: ${reference.length} vs ${candidate.length} values (vocabulary ${vocabSize})`,
    );
  }
  let maxAbsDelta = 0;
  let sumAbsDelta = 0;
  let agree = 0;
  const positions = reference.length / vocabSize;
  for (let p = 0; p < positions; p++) {
    const row = p * vocabSize;
    let refBest = row;
    let candBest = row;
    for (let i = row; i < row + vocabSize; i++) {
      const r = reference[i] as number;
      const c = candidate[i] as number;
      const d = Math.abs(c - r);
      sumAbsDelta += d;
      // NaN anywhere must not look like parity: it poisons the maximum for good (NaN > x is always false).
      if (Number.isNaN(d)) maxAbsDelta = Number.NaN;
      else if (d > maxAbsDelta) maxAbsDelta = d;
      if (r > (reference[refBest] as number)) refBest = i;
      if (c > (candidate[candBest] as number)) candBest = i;
    }
    if (refBest === candBest) agree++;
  }
  return { maxAbsDelta, meanAbsDelta: sumAbsDelta / reference.length, top1Agreement: agree / positions, positions };
}
