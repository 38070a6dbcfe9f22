import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { escapeUntrusted } from '../../src/report/escape.js';
import { escapeHtml, renderHtml, scriptJson } from '../../src/report/html.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { logLine, noCommandLines } from '../../src/github/log.js';
import { matrixResults } from '../helpers/results.js';

const Z = '\u200b';

// Each hostile text a model name, a path, a part name or a worker's error could carry, and what GitHub gets.
const MARKDOWN: readonly [string, string, string][] = [
  ['mention', '@octocat please merge', `@${Z}octocat please merge`],
  ['team mention and a URL', '@octo/team see https://evil.example', `@${Z}octo/team see https:${Z}//evil.example`],
  ['markdown link', '[click](https://evil.example)', `\\[click\\](https:${Z}//evil.example)`],
  ['image', '![x](https://evil.example/p.png)', `!\\[x\\](https:${Z}//evil.example/p.png)`],
  ['angle-bracket autolink', '<https://evil.example>', `\\<https:${Z}//evil.example\\>`],
  ['www autolink', 'see www.evil.example', `see www${Z}.evil.example`],
  ['email autolink', 'mail admin@evil.example', `mail admin@${Z}evil.example`],
  ['script tag', '<script>alert(1)</script>', '\\<script\\>alert(1)\\</script\\>'],
  ['img onerror', '<img src=x onerror=alert(1)>', '\\<img src=x onerror=alert(1)\\>'],
  ['HTML comment', 'a <!-- x --> b', 'a \\<!-- x --\\> b'],
  ['entity that spells @', '&#64;octocat', `\\&#${Z}64;octocat`],
  ['issue reference', 'fixes #12', `fixes #${Z}12`],
  ['cross-repository reference', 'octo/repo#12', `octo/repo#${Z}12`],
  ['GH- reference', 'see GH-12', `see GH-${Z}12`],
  ['pipe in a table cell', 'a|b', 'a\\|b'],
  ['backticks', '`code` ``x``', '\\`code\\` \\`\\`x\\`\\`'],
  ['emphasis and strike', '**bold** _it_ ~~del~~', '\\*\\*bold\\*\\* \\_it\\_ \\~\\~del\\~\\~'],
  ['underscores: a word keeps its own', 'single_micro __init__ a_', 'single_micro \\_\\_init\\_\\_ a\\_'],
  ['math', '$x^2$', '\\$x^2\\$'],
  ['newline', 'line1\nline2', 'line1 line2'],
  ['CRLF, tab and line separator', 'a\r\nb\tc\u2028d', 'a b c d'],
  ['heading at the start', '# title', `#${Z} title`],
  ['backslashes', 'C:\\path\\', 'C:\\\\path\\\\'],
  ['bidirectional override', 'abc\u202edef', 'abcdef'],
];

const PLAIN: readonly [string, string, string][] = [
  ['mention and URL', '@octo/team see https://evil.example', `@${Z}octo/team see https:${Z}//evil.example`],
  ['markup stays as written', '<b>a|b</b> [x](y) `z`', '<b>a|b</b> [x](y) `z`'],
  ['newlines and references', 'fixes #12\nGH-3', `fixes #${Z}12 GH-${Z}3`],
];

/** Any text, built mostly of the pieces that make markup, mentions and links. */
const HOSTILE_TEXT = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc
    .array(
      fc.constantFrom(
        '@',
        '#',
        '://',
        'www.',
        'WWW.',
        'https',
        'GH-',
        '1',
        '<',
        '>',
        '|',
        '`',
        '\\',
        '&',
        '_',
        '*',
        '[',
        ']',
        '(',
        ')',
        '!',
        '$',
        '~',
        'a',
        ' ',
        '\n',
        '\r',
        '\u202e',
      ),
      { maxLength: 40 },
    )
    .map((pieces) => pieces.join('')),
);

describe('escapeUntrusted: one escaper for all text that reaches GitHub', () => {
  it.each(MARKDOWN)('markdown: %s', (_name, hostile, expected) => {
    expect(escapeUntrusted(hostile)).toBe(expected);
  });

  it.each(PLAIN)('plain (annotations, commit status): %s', (_name, hostile, expected) => {
    expect(escapeUntrusted(hostile, 'plain')).toBe(expected);
  });

  it('leaves ordinary names alone', () => {
    for (const name of ['onnxruntime-cpu', 'single_micro', 'model.onnx', '/repo/models/gpt2-small (v2).onnx'])
      expect(escapeUntrusted(name)).toBe(name);
  });

  it('an underscore between letters outside the BMP stays as written (intraword: no emphasis)', () => {
    expect(escapeUntrusted('0_\u{20000}')).toBe('0_\u{20000}');
    expect(escapeUntrusted('_\u{20000}')).toBe('\\_\u{20000}');
  });

  it('any text: one line, no live mention, reference or URL, every markup character escaped', () => {
    fc.assert(
      fc.property(HOSTILE_TEXT, (text) => {
        const out = escapeUntrusted(text);
        expect(out).not.toMatch(/[\n\r\u2028\u2029]/);
        expect(out).not.toMatch(/[@#](?!\u200b)/);
        expect(out).not.toMatch(/:\/\/|www\.|gh-\d/i);
        // A markup character is escaped when an odd number of backslashes precedes it.
        for (const m of out.matchAll(/(\\*)([<>|`[\]*~$&_])/g)) {
          // Neighbours by code point: a letter outside the BMP (U+20000 …) is two UTF-16 units.
          const at = m.index + m[0].length - 1;
          const before = Array.from(out.slice(0, at)).at(-1) ?? '';
          const after = Array.from(out.slice(at + 1, at + 3))[0] ?? '';
          const intraword = m[2] === '_' && /[\p{L}\p{N}]/u.test(before) && /[\p{L}\p{N}]/u.test(after);
          if (!intraword) expect((m[1] ?? '').length % 2).toBe(1);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('logLine: a log line the runner cannot read as a workflow command (issue 21)', () => {
  it.each([
    [
      'a part folder with a newline',
      'merged 1 parts: evil\n::add-mask::x (f)',
      'merged 1 parts: evil ::add-mask::x (f)',
    ],
    ['a line that starts as a command', '::set-output name=verdict::pass', ' ::set-output name=verdict::pass'],
    ['a carriage return', 'a\r::error::b', 'a ::error::b'],
    ['a paragraph separator', 'a\u2029::error::b', 'a ::error::b'],
  ])('%s', (_, text, expected) => {
    expect(logLine(text)).toBe(expected);
  });

  it('keeps ordinary lines as they are', () => {
    expect(logLine('onnxruntime-node: /opt/ort (tool-cache)')).toBe('onnxruntime-node: /opt/ort (tool-cache)');
  });

  it('noCommandLines: keeps the lines, but none starts a workflow command', () => {
    expect(noCommandLines('parts differ:\n  a\n::error::x\r::warning::y\u2028::add-mask::z')).toBe(
      'parts differ:\n  a\n ::error::x\r ::warning::y\u2028 ::add-mask::z',
    );
    expect(noCommandLines('::set-output name=v::1')).toBe(' ::set-output name=v::1');
    expect(noCommandLines('a line: with :: inside\nand another')).toBe('a line: with :: inside\nand another');
  });

  it('no text gives a line that starts a workflow command or holds a line break', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        const line = logLine(text);
        expect(line.startsWith('::')).toBe(false);
        expect(line).not.toMatch(/[\r\n\u2028\u2029]/);
      }),
    );
  });
});

/** Every bidirectional embedding, override and isolate: each can make a name read as something else. */
const BIDI = ['\u202a', '\u202b', '\u202c', '\u202d', '\u202e', '\u2066', '\u2067', '\u2068', '\u2069'];
const ANY_BIDI = /[\u202a-\u202e\u2066-\u2069]/;

describe('bidirectional controls: report.html drops what report.md drops (issue 21)', () => {
  it.each(BIDI.map((c) => [`U+${c.codePointAt(0)!.toString(16).toUpperCase()}`, c]))(
    "%s in a hostile name: gone from markdown, plain text, HTML text and the charts' JSON alike",
    (_, c) => {
      // U+202E would show `evil\u202egnp.exe` as `evilexe.png`.
      const hostile = `evil${c}gnp.exe`;
      expect(escapeUntrusted(hostile)).toBe('evilgnp.exe');
      expect(escapeUntrusted(hostile, 'plain')).toBe('evilgnp.exe');
      expect(escapeHtml(hostile)).toBe('evilgnp.exe');
      expect(scriptJson({ name: hostile })).toBe('{"name":"evilgnp.exe"}');
    },
  );

  it('leaves right-to-left letters alone (only the invisible controls go)', () => {
    expect(escapeHtml('מודל عربي <b>')).toBe('מודל عربي &#60;b&#62;');
    expect(scriptJson({ name: 'מודל' })).toBe('{"name":"מודל"}');
  });

  it('a run whose backend, scenario and model names carry them: neither report.html nor report.md holds one', () => {
    // The config refuses such names, but a results.json handed to `tr118 report` or merged as a part is not a
    // config: the names are put in after the fact, everywhere the results hold them.
    const clean = matrixResults({
      backends: ['cpugnp', 'fastx'],
      scenarios: ['singlemicro', 'batch_short'],
      latencyMs: (b) => (b === 'fastx' ? 1 : 2),
    });
    const r = JSON.parse(
      JSON.stringify({ ...clean, model: { ...clean.model, name: 'modelevil' } })
        .replaceAll('cpugnp', 'cpu\u202egnp')
        .replaceAll('fastx', 'fast\u2066x\u2069')
        .replaceAll('singlemicro', 'single\u202amicro')
        .replaceAll('modelevil', 'model\u202e\u2067evil'),
    ) as typeof clean;
    const html = renderHtml(r, '/* library */ window.vega = {};', {});
    const markdown = renderMarkdown(r);
    expect(JSON.stringify(r)).toMatch(ANY_BIDI);
    expect(html).not.toMatch(ANY_BIDI);
    expect(markdown).not.toMatch(ANY_BIDI);
    // The names are still there, without the controls.
    for (const name of ['cpugnp', 'fastx', 'singlemicro', 'modelevil']) {
      expect(html).toContain(name);
      expect(markdown).toContain(name);
    }
  });
});
