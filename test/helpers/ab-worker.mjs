// A worker that speaks the protocol (JSON header lines on stdin/stdout, framing.ts) and holds a "candidate" and a
// "base" model that take 1 ms and 2 ms a pass: same-run A/B as the runner sees it, without a runtime. Appends every
// open, reopen and run request it gets to the file in AB_WORKER_LOG, with its process id, so a test can check what the
// runner asked for and of which process. AB_WORKER_REOPEN=refuse answers a reopen as a worker from before it did
// (an unknown request); =ignore never answers it. AB_WORKER_SWING=1: the two models take 1 and 2 ms in turn, run by
// run, so a sequential comparison never settles and runs its whole budget.
import { appendFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

const log = (entry) => appendFileSync(process.env.AB_WORKER_LOG, `${JSON.stringify({ ...entry, pid: process.pid })}\n`);
const reply = (message) => process.stdout.write(`${JSON.stringify(message)}\n`);
let runs = 0;
const passMs = () => {
  if (!process.env.AB_WORKER_SWING) return { candidate: 1, base: 2 };
  return runs % 2 === 0 ? { candidate: 1, base: 2 } : { candidate: 2, base: 1 };
};
const PASS_MS = { candidate: 1, base: 2 };
for await (const line of createInterface({ input: process.stdin })) {
  const message = JSON.parse(line);
  if (message.type === 'reopen' && process.env.AB_WORKER_REOPEN === 'refuse') {
    log({ type: 'reopen', baseFirst: message.baseFirst, refused: true });
    reply({ type: 'error', id: message.id, kind: 'failed', message: "bad request: unknown type 'reopen'" });
  } else if (message.type === 'reopen' && process.env.AB_WORKER_REOPEN === 'ignore') {
    log({ type: 'reopen', baseFirst: message.baseFirst, ignored: true });
  } else if (message.type === 'open' || message.type === 'reopen') {
    log({
      type: message.type,
      ...(message.type === 'open'
        ? { modelPath: message.backend?.modelPath ?? null, baseModelPath: message.baseModelPath ?? null }
        : {}),
      baseFirst: message.baseFirst ?? null,
    });
    reply({
      type: 'opened',
      id: message.id,
      info: {
        protocolVersion: 1,
        runtime: 'ab',
        runtimeVersion: '0',
        providers: ['cpu'],
        inputNames: ['input_ids'],
        outputNames: ['logits'],
        openMs: 0,
      },
    });
  } else if (message.type === 'run') {
    log({ type: 'run', paired: message.paired ?? null });
    const ms = passMs();
    runs++;
    const passes = (model) => Array.from({ length: message.iterations }, () => ms[model]);
    reply({
      type: 'ran',
      id: message.id,
      latenciesMs: passes('candidate'),
      ...(message.paired ? { baseLatenciesMs: passes('base') } : {}),
      outputShape: [message.batch, message.seqLen, 8],
    });
  } else if (message.type === 'perplexity') {
    const model = message.model ?? 'candidate';
    const scoredTokens = message.tokens.length - 1;
    reply({
      type: 'perplexity',
      id: message.id,
      nllSum: scoredTokens * PASS_MS[model],
      scoredTokens,
      windows: 1,
      elapsedMs: 0,
      peakRssMiB: 1,
    });
  } else if (message.type === 'close') {
    reply({ type: 'closed', id: message.id });
  }
}
