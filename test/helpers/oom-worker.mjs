// A worker that opens fine (vocabulary 4,096, as the fixture), then dies on its first forward pass the way the
// kernel's OOM killer ends a process: SIGKILL, with no word on stderr. Speaks the frame protocol (JSON header lines).
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
        runtime: 'oom',
        runtimeVersion: '0',
        providers: ['cpu'],
        inputNames: ['input_ids'],
        outputNames: ['logits'],
        vocabSize: 4096,
        openMs: 0,
      },
    });
  } else if (message.type === 'run' || message.type === 'perplexity' || message.type === 'logits') {
    process.kill(process.pid, 'SIGKILL');
  } else if (message.type === 'close') {
    reply({ type: 'closed', id: message.id });
  }
}
