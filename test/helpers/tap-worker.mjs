// Runs the worker module named in TAP_WORKER (through tsx: a .ts file) in this process, after arranging that every
// request it reads is also logged to TAP_LOG, one JSON line each: its type, baseFirst and this process's id. What a
// real worker was asked, and which process was: requests are header lines without payloads (protocol.ts).
import { appendFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

// The worker first: its stdin listener must be there before any request flows (the tap only listens beside it).
await import(pathToFileURL(process.env.TAP_WORKER).href);
let pending = '';
process.stdin.on('data', (chunk) => {
  pending += chunk.toString('utf8');
  const lines = pending.split('\n');
  pending = lines.pop() ?? '';
  for (const line of lines) {
    const { type, baseFirst } = JSON.parse(line);
    appendFileSync(
      process.env.TAP_LOG,
      `${JSON.stringify({ type, baseFirst: baseFirst ?? null, pid: process.pid })}\n`,
    );
  }
});
