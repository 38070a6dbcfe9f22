/**
 * The one escaper for text from outside that reaches GitHub: model names and paths, backend, scenario and part
 * names, error reasons from workers and APIs, branch names. Everything that renders report.md, the PR comment, the
 * job summary, annotations or the commit status passes such text through here. Pure.
 */

/** Where the text goes: rendered as GitHub markdown (report, comment, job summary), or shown as plain text. */
export type Sink = 'markdown' | 'plain';

/** Zero-width space: breaks a mention, a reference or an autolink without changing what a reader sees. */
const ZWSP = '\u200b';

/**
 * The bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069): a name holding U+202E shows
 * its text reversed, so `evil\u202egnp.exe` reads as `evilexe.png`. Every report drops them: report.md and GitHub
 * text through escapeUntrusted, report.html through html.ts.
 */
export function dropBidiControls(text: string): string {
  return text.replace(/[\u202a-\u202e\u2066-\u2069]/g, '');
}

/**
 * Text made inert for its sink. Both sinks: one line (control characters, line and paragraph separators become a
 * space; bidirectional overrides, which can disguise text, are dropped), and no @mention, #reference, GH-reference
 * or autolink (`scheme://`, `www.`): GitHub finds those in the rendered text, after markdown escapes are gone, so a
 * zero-width space breaks them where a backslash would not.
 * Markdown also gets a backslash before each character that can start markup: `<` `>` (HTML, autolinks), `[` `]`
 * (links and images: without them `(` `)` `!` are plain), `` ` `` `*` `~` `$` (code, emphasis, strike, math), `|`
 * (table cells), `&` (an entity such as `&#64;` spells `@` again), `\` itself, and `_` except inside a word, where
 * GitHub never reads it as emphasis (so `single_micro` stays readable in the raw file).
 */
export function escapeUntrusted(text: string, sink: Sink = 'markdown'): string {
  let out = dropBidiControls(
    // eslint-disable-next-line no-control-regex -- control characters are what this removes
    text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' '),
  );
  if (sink === 'markdown') {
    out = out.replace(/[\\`*<>[\]|~$&]/g, (c) => `\\${c}`).replace(/(?<![\p{L}\p{N}])_|_(?![\p{L}\p{N}])/gu, '\\_');
  }
  return out
    .replace(/[@#]/g, (c) => `${c}${ZWSP}`)
    .replace(/(gh)-(?=\d)/gi, `$1-${ZWSP}`)
    .replace(/:\/\//g, `:${ZWSP}//`)
    .replace(/(www)\./gi, `$1${ZWSP}.`);
}
