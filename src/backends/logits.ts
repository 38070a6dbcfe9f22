/**
 * What this tool reads from a model: one row of logits per input position, [batch, seq, vocab]. Anything else
 * (last-position-only logits, a flattened [batch·seq, vocab], a hidden state) would be scored as if it were logits and
 * give a wrong perplexity that may well pass, so it is refused. Pure.
 */

/** Why `dims` are not the logits of a [batch, seqLen] input, or undefined when they are. */
export function logitsShapeProblem(
  output: string,
  dims: readonly number[],
  batch: number,
  seqLen: number,
  vocabSize: number | undefined,
): string | undefined {
  const vocabOk = dims[2] !== undefined && dims[2] > 0 && (vocabSize === undefined || dims[2] === vocabSize);
  if (dims.length === 3 && dims[0] === batch && dims[1] === seqLen && vocabOk) return undefined;
  const expected = `[${batch}, ${seqLen}, ${vocabSize ?? 'vocab'}]`;
  return (
    `the logits output ${JSON.stringify(output)} has shape [${dims.join(', ')}]; expected [batch, seq, vocab] = ` +
    `${expected} for a ${batch}×${seqLen} input (model.logits_output names the output that holds them)`
  );
}
