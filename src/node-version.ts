/**
 * The Node.js versions tr118 runs on, checked first by both entries (src/cli/index.ts, src/action/index.ts) before
 * they load anything else: an older Node would otherwise start tr118, which is neither built nor tested for it, and
 * any failure would come later and not say why. Pure, and imports nothing, so it loads on any Node that parses it.
 */

/**
 * package.json's engines.node, as a constant: the bundles do not read package.json at run time, and
 * test/unit/node-version.test.ts fails when the two differ.
 */
export const NODE_ENGINES = '^22.13.0 || >=24';

type Version = readonly [number, number, number];

function parseVersion(text: string): Version | undefined {
  const m = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(text.trim());
  return m ? [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)] : undefined;
}

function compare(a: Version, b: Version): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

/**
 * Whether `version` satisfies one comparator of the subset of npm's range syntax engines ranges use here:
 * `^X.Y.Z` (same major, at least X.Y.Z), `>=X.Y.Z`, `>X.Y.Z`, `<X.Y.Z`, `<=X.Y.Z`, `X.Y.Z`; undefined when the
 * comparator is outside that subset.
 */
function satisfiesComparator(version: Version, comparator: string): boolean | undefined {
  const m = /^(\^|>=|<=|>|<|=)?\s*(v?\d+(?:\.\d+){0,2})$/.exec(comparator);
  const bound = m ? parseVersion(m[2]!) : undefined;
  if (!m || !bound) return undefined;
  const c = compare(version, bound);
  switch (m[1]) {
    case '^':
      return version[0] === bound[0] && c >= 0;
    case '>=':
      return c >= 0;
    case '>':
      return c > 0;
    case '<=':
      return c <= 0;
    case '<':
      return c < 0;
    case '=':
    case undefined:
      return c === 0;
    default:
      return undefined;
  }
}

/**
 * Why Node.js `version` (process.versions.node) cannot run tr118 under `range` (package.json's engines.node:
 * alternatives joined by `||`, each comparators joined by spaces), as one line; undefined when it can. A range this
 * does not understand is a bug here, and is said so rather than let any version through unsaid.
 */
export function nodeVersionProblem(version: string, range: string = NODE_ENGINES): string | undefined {
  const parsed = parseVersion(version);
  if (!parsed) return `cannot read the Node.js version ${JSON.stringify(version)}; tr118 needs Node.js ${range}`;
  let understood = true;
  const fits = range.split('||').some((alternative) => {
    const comparators = alternative.trim().split(/\s+/).filter(Boolean);
    const results = comparators.map((c) => satisfiesComparator(parsed, c));
    if (results.includes(undefined)) understood = false;
    return comparators.length > 0 && results.every((r) => r === true);
  });
  if (fits) return undefined;
  const running = `this is Node.js ${version.replace(/^v/, '')}`;
  if (!understood) return `${running}; tr118 cannot read its own engines range ${range} (a bug: please report it)`;
  return `${running}; tr118 needs Node.js ${range}: install one (nodejs.org, or nvm install 22)`;
}
