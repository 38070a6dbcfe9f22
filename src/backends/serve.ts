/**
 * The worker side of the protocol, for workers written in TypeScript: reads request frames from stdin, hands them
 * one at a time to `handle`, writes each reply frame to stdout, and exits when the runner closes stdin.
 * (native/tr118_native/worker/ is the same loop in Python.)
 */
import { describeError } from '../errors.js';
import { FrameDecoder } from './framing.js';
import { decodeRequest, encodeReply, type WorkerReply, type WorkerRequest } from './protocol.js';

export function serveRequests(handle: (request: WorkerRequest) => Promise<WorkerReply>): void {
  // stdout carries frames only: anything a library logs with console.* goes to stderr, the worker's log.
  console.log = console.info = console.debug = console.warn = console.error;
  const decoder = new FrameDecoder();
  let queue = Promise.resolve();
  const reply = (message: WorkerReply): void => {
    process.stdout.write(encodeReply(message));
  };
  process.stdin.on('data', (chunk: Buffer) => {
    let frames;
    try {
      frames = decoder.push(chunk);
    } catch (error) {
      process.stderr.write(`worker: unreadable request stream: ${describeError(error)}\n`);
      process.exit(2);
    }
    for (const frame of frames) {
      const parsed = decodeRequest(frame);
      const header = frame.header;
      // Requests are answered in order: the runner sends the next one only after this reply.
      queue = queue.then(async () => {
        if (!parsed.success) {
          const id = typeof header.id === 'number' ? header.id : -1;
          reply({ type: 'error', id, kind: 'failed', message: `bad request: ${parsed.error.message}` });
          return;
        }
        try {
          reply(await handle(parsed.data));
        } catch (error) {
          reply({ type: 'error', id: parsed.data.id, kind: 'failed', message: describeError(error) });
        }
      });
    }
  });
  // The runner closed our stdin (close request, or the runner is gone): finish what is queued, then leave.
  process.stdin.on('end', () => void queue.then(() => process.exit(0)));
}
