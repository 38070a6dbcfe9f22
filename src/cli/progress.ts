/** Progress for long runs: a bar with the cell and ETA on a terminal, one plain line per run otherwise (CI logs). */
import cliProgress from 'cli-progress';
import type { ProgressEvent } from '../measure/runner.js';
import type { StopRecord } from '../measure/records.js';
import { median } from 'simple-statistics';
import { num } from '../format.js';

export interface ProgressSink {
  readonly onEvent: (event: ProgressEvent) => void;
  readonly stop: () => void;
}

/** One line for a cell that stopped repeating (sequential stopping). */
function stopLine(r: StopRecord): string {
  const what = r.why === 'settled' ? `settled ${r.decision ?? ''}` : r.why;
  return `${r.backend} × ${r.scenario}: stopped after ${r.repetitions} repetitions, ${what}: ${r.reason}`;
}

export function createProgress(stream: NodeJS.WriteStream, quiet: boolean): ProgressSink {
  if (quiet) return { onEvent: () => undefined, stop: () => undefined };
  const write = (line: string): void => void stream.write(`${line}\n`);
  if (!stream.isTTY) {
    return {
      onEvent: (event) => {
        switch (event.phase) {
          case 'open':
            return write(`backend ${event.backend}: ${event.status}`);
          case 'run': {
            const r = event.record;
            const what =
              r.status === 'ok' && r.latenciesMs.length > 0
                ? `median ${num(median([...r.latenciesMs]))} ms`
                : `DEGRADED: ${r.reason ?? ''}`;
            return write(
              `[${event.done}/${event.total}] ${r.backend} × ${r.scenario} (repetition ${r.repetition + 1}): ${what}`,
            );
          }
          case 'accuracy': {
            const r = event.record;
            const what =
              r.status === 'ok' && r.nllSum !== undefined && r.scoredTokens
                ? `perplexity ${num(Math.exp(r.nllSum / r.scoredTokens), 6)}`
                : `DEGRADED: ${r.reason ?? ''}`;
            return write(`accuracy ${r.backend}: ${what}`);
          }
          case 'parity': {
            const r = event.record;
            const what =
              r.status === 'ok'
                ? `max |Δ logit| ${num(r.maxAbsDelta, 3)}, top-1 agreement ${num(r.top1Agreement, 4)}`
                : `${r.status === 'skipped' ? 'SKIPPED' : 'DEGRADED'}: ${r.reason ?? ''}`;
            return write(`parity ${r.backend} vs ${r.reference ?? 'no reference'}: ${what}`);
          }
          case 'stop':
            return write(stopLine(event.record));
        }
      },
      stop: () => undefined,
    };
  }
  const bar = new cliProgress.SingleBar(
    { format: ' {bar} {value}/{total} runs | ETA {eta_formatted} | {cell}', hideCursor: true, stream, etaBuffer: 20 },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    onEvent: (event) => {
      switch (event.phase) {
        case 'open':
          return write(`backend ${event.backend}: ${event.status}`);
        case 'run':
          if (!started) {
            bar.start(event.total, 0, { cell: '' });
            started = true;
          }
          bar.update(event.done, { cell: `${event.record.backend} × ${event.record.scenario}` });
          return;
        case 'accuracy':
          bar.update({ cell: `perplexity ${event.record.backend}` });
          return;
        case 'parity':
          bar.update({ cell: `logits parity ${event.record.backend}` });
          return;
        case 'stop':
          // A runner too noisy to gate is said at once, not only in the report.
          if (event.record.why === 'noise-floor') write(stopLine(event.record));
          else bar.update({ cell: `${event.record.backend} × ${event.record.scenario}: stopped` });
          return;
      }
    },
    stop: () => {
      if (started) bar.stop();
    },
  };
}
