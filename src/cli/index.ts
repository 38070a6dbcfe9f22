#!/usr/bin/env node
// The `tr118` executable: checks the Node.js version, then only wires the process to main().
import { ExitCode } from '../errors.js';
import { nodeVersionProblem } from '../node-version.js';

// First, and main.js only after it (a dynamic import): none of the CLI's modules runs on a Node.js it does not support.
const problem = nodeVersionProblem(process.versions.node);
if (problem !== undefined) {
  process.stderr.write(`tr118: ${problem}\n`);
  process.exit(ExitCode.usage);
}

// A reader that goes away (`tr118 run | head`) is not an error worth a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

// dist/ is minified: a stack trace (TR118_DEBUG=1) names the source file and line through dist/*.js.map.
process.setSourceMapsEnabled(true);

const { main } = await import('./main.js');
process.exitCode = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  cwd: process.cwd(),
});
