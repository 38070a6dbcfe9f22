// A worker that speaks the protocol (JSON header lines on stdin/stdout, framing.ts), opens fine, then never
// answers a run: a hung backend, as the runner sees one. Busy-waits (like a native call stuck in a kernel) so that
// only killing the process can stop it.
import { createInterface } from 'node:readline';

const reply = (message) => process.stdout.write(`${JSON.stringify(message)}\n`);
for await (const line of createInterface({ input: process.stdin })) {
  const message = JSON.parse(line);
  if (message.type === 'open') {
    reply({
      type: 'opened',
      id: message.id,
      info: {
        protocolVersion: 1,
        runtime: 'hang',
        runtimeVersion: '0',
        providers: ['cpu'],
        inputNames: ['input_ids'],
        outputNames: ['logits'],
        openMs: 0,
      },
    });
  } else if (message.type === 'run' || message.type === 'perplexity') {
    for (;;) {
      // never returns
    }
  } else if (message.type === 'close') {
    reply({ type: 'closed', id: message.id });
  }
}
