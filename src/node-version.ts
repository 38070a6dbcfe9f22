/**
 * The Node.js versions tr118 runs on, checked first by both entries (src/cli/index.ts, src/action/index.ts) before
 * they load anything else: an older Node would otherwise start tr118, which is neither built nor tested for it, and
 * any failure would come later and not say why. Pure; it imports only semver (which runs on Node.js 10 and later),
 * so it loads on any Node that could be mistaken for a supported one.
 */
import satisfies from 'semver/functions/satisfies.js';
import valid from 'semver/functions/valid.js';
import validRange from 'semver/ranges/valid.js';

/**
 * package.json's engines.node, as a constant: the bundles do not read package.json at run time, and
 * test/unit/node-version.test.ts fails when the two differ.
 */
export const NODE_ENGINES = '^22.13.0 || >=24';

/**
 * Why Node.js `version` (process.versions.node) cannot run tr118 under `range` (package.json's engines.node), as one
 * line; undefined when it can. npm's own range rules (semver), so the check means what `npm ci`'s engines check means.
 * A range semver cannot read is a bug here, and is said so rather than let any version through unsaid.
 */
export function nodeVersionProblem(version: string, range: string = NODE_ENGINES): string | undefined {
  const parsed = valid(version.trim());
  if (!parsed) return `cannot read the Node.js version ${JSON.stringify(version)}; tr118 needs Node.js ${range}`;
  const running = `this is Node.js ${parsed}`;
  if (validRange(range) === null)
    return `${running}; tr118 cannot read its own engines range ${range} (a bug: please report it)`;
  if (satisfies(parsed, range)) return undefined;
  return `${running}; tr118 needs Node.js ${range}: install one (nodejs.org, or nvm install 22)`;
}
