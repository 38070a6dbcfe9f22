/** Evaluation text → token ids, in TypeScript (no Python needed for the CPU path). Pure. */
import * as tokenizers from '@huggingface/tokenizers';

/** The part of @huggingface/tokenizers used here (its bundled .d.ts does not resolve under NodeNext). */
interface HfTokenizer {
  encode(text: string, options: { add_special_tokens: boolean }): { ids: number[] };
}
const Tokenizer = (tokenizers as unknown as { Tokenizer: new (json: object, config: object) => HfTokenizer }).Tokenizer;

/** UTF-8 bytes as ids (0..255): for byte-level models, or a quick check with no tokenizer at hand. */
export function byteTokens(text: string): number[] {
  return Array.from(Buffer.from(text, 'utf8'));
}

/**
 * Tokenizes with a Hugging Face tokenizer.json (parsed), without special tokens: perplexity is over the text
 * itself. Throws with the library's reason if the JSON is not a tokenizer it understands.
 */
export function hfTokens(tokenizerJson: unknown, text: string): number[] {
  if (tokenizerJson === null || typeof tokenizerJson !== 'object') throw new Error('not a JSON object');
  return new Tokenizer(tokenizerJson, {}).encode(text, { add_special_tokens: false }).ids;
}
