/** The size of a forward pass's logits: what every backend copies to the host, and the bulk of a worker's memory. */

/** float32 logits. */
export const LOGITS_BYTES_PER_VALUE = 4;

/** Bytes of the float32 logits [batch, seqLen, vocab] of one forward pass. */
export function logitsBytes(batch: number, seqLen: number, vocabSize: number): number {
  return batch * seqLen * vocabSize * LOGITS_BYTES_PER_VALUE;
}

/** "2,048 MiB", "0.125 MiB": the unit the memory budget is given in. */
export function formatMiB(bytes: number): string {
  const mib = bytes / 2 ** 20;
  return `${mib >= 10 ? Math.round(mib).toLocaleString('en-US') : Number(mib.toPrecision(3)).toString()} MiB`;
}
