// The Action's entry (action.yml runs dist/index.js): checks the Node.js version, then only starts run().
import { ExitCode } from '../errors.js';
import { nodeVersionProblem } from '../node-version.js';

// First, and main.js only after it (a dynamic import): none of the Action's modules, the Actions toolkit included,
// runs on a Node.js it does not support. The annotation is written by hand for that reason; the text is ours (no
// newline or `%`, which a workflow command would need escaped).
const problem = nodeVersionProblem(process.versions.node);
if (problem !== undefined) {
  process.stdout.write(`::error::tr118: ${problem}\n`);
  process.exit(ExitCode.usage);
}

// dist/ is minified: a stack trace (TR118_DEBUG=1) names the source file and line through dist/*.js.map.
process.setSourceMapsEnabled(true);

const { run } = await import('./main.js');
await run();
