// A worker that opens with the node placement in PLACEMENT_JSON (SessionInfo.placement) and answers run with 1 ms
// passes: what the runner does with a placement, without a GPU.
import { createInterface } from 'node:readline';

const reply = (message) => process.stdout.write(`${JSON.stringify(message)}\n`);
const placement = JSON.parse(process.env.PLACEMENT_JSON ?? 'null');
for await (const line of createInterface({ input: process.stdin })) {
  const message = JSON.parse(line);
  if (message.type === 'open') {
    reply({
      type: 'opened',
      id: message.id,
      info: {
        protocolVersion: 1,
        runtime: 'placement-test',
        runtimeVersion: '0',
        providers: ['cuda'],
        inputNames: ['input_ids'],
        outputNames: ['logits'],
        openMs: 0,
        ...(placement ? { placement } : {}),
      },
    });
  } else if (message.type === 'run') {
    const latenciesMs = Array.from({ length: message.iterations }, () => 1);
    reply({ type: 'ran', id: message.id, latenciesMs, outputShape: [message.batch, message.seqLen, 8] });
  } else if (message.type === 'close') {
    reply({ type: 'closed', id: message.id });
    process.exit(0);
  } else {
    reply({ type: 'error', id: message.id, kind: 'failed', message: `not scripted: ${message.type}` });
  }
}
