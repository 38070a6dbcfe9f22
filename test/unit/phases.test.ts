import { describe, expect, it } from 'vitest';
import { PHASES, phaseClock, reassignOpens } from '../../src/measure/phases.js';
import { timedRun } from '../../src/measure/runner.js';

/** A clock the test moves by hand: readings are exact, so every figure below is too. */
function fakeClock(): { now: () => number; advance: (ms: number) => void } {
  let ms = 1000;
  return { now: () => ms, advance: (by) => (ms += by) };
}

const total = (seconds: Readonly<Record<string, number>>): number => Object.values(seconds).reduce((a, b) => a + b, 0);

describe('phaseClock: every moment charged to the one phase the run is in', () => {
  it('charges time outside any phase to other, and each phase its own span', () => {
    const clock = fakeClock();
    const phases = phaseClock(clock.now);
    clock.advance(100);
    phases.during('inputs', () => clock.advance(2000));
    phases.during('judging', () => clock.advance(500));
    clock.advance(50);
    const seconds = phases.seconds();
    expect(Object.keys(seconds)).toEqual([...PHASES]);
    expect(seconds.inputs).toBe(2);
    expect(seconds.judging).toBe(0.5);
    expect(seconds.other).toBe(0.15);
    expect(total(seconds)).toBeCloseTo(2.65, 12);
  });

  it('a nested phase takes its span from the outer one, which resumes after it (nothing counted twice)', async () => {
    const clock = fakeClock();
    const phases = phaseClock(clock.now);
    await phases.duringAsync('inputs', async () => {
      clock.advance(1000);
      await phases.duringAsync('export', async () => {
        await Promise.resolve();
        clock.advance(3000);
      });
      clock.advance(250);
    });
    const seconds = phases.seconds();
    expect(seconds).toMatchObject({ inputs: 1.25, export: 3, other: 0 });
    expect(total(seconds)).toBe(4.25);
  });

  it('a phase that throws still ends, and the outer phase resumes', () => {
    const clock = fakeClock();
    const phases = phaseClock(clock.now);
    expect(() =>
      phases.during('writing', () => {
        clock.advance(300);
        throw new Error('disk full');
      }),
    ).toThrow('disk full');
    clock.advance(700);
    expect(phases.seconds()).toMatchObject({ writing: 0.3, other: 0.7 });
  });

  it("reassign moves a worker's own figure out of the span that held it, never more than was charged", () => {
    const clock = fakeClock();
    const phases = phaseClock(clock.now);
    phases.during('warmUp', () => clock.advance(1000));
    phases.reassign('warmUp', 'timedPasses', 0.6);
    phases.reassign('warmUp', 'endToEndPasses', 5); // more than is left: only what is left moves
    phases.reassign('warmUp', 'compile', -1); // a negative figure moves nothing
    const seconds = phases.seconds();
    expect(seconds).toMatchObject({ warmUp: 0, timedPasses: 0.6, endToEndPasses: 0.4, compile: 0 });
    expect(total(seconds)).toBe(1);
  });

  it('reassign out of the phase that is current brings it up to date first', () => {
    const clock = fakeClock();
    const phases = phaseClock(clock.now);
    phases.during('workerStart', () => {
      clock.advance(2000);
      phases.reassign('workerStart', 'sessionOpen', 1.5);
      clock.advance(100);
    });
    expect(phases.seconds()).toMatchObject({ workerStart: 0.6, sessionOpen: 1.5 });
  });
});

describe('reassignOpens: concurrent opens charged once, along the queue that took longest', () => {
  it("moves the longest queue's open and compile figures out of workerStart, and nothing of the queues beside it", async () => {
    const clock = fakeClock();
    const phases = phaseClock(clock.now);
    // Three workers opened together over 10 s: a CPU one (6 s) beside a cuda:0 queue of two (3 s, then 5 s of which
    // torch.compile 4 s). Moving every figure would put 14 s into a 10 s span.
    await phases.duringAsync('workerStart', async () => {
      await Promise.resolve();
      clock.advance(10_000);
    });
    reassignOpens(phases, [[{ openMs: 6000 }], [{ openMs: 3000 }, { openMs: 5000, compileMs: 4000 }]]);
    const seconds = phases.seconds();
    expect(seconds).toMatchObject({ workerStart: 2, sessionOpen: 4, compile: 4 });
    expect(total(seconds)).toBe(10);
  });

  it('never moves more than the span held, and nothing when no worker reported a figure', () => {
    const clock = fakeClock();
    const phases = phaseClock(clock.now);
    phases.during('workerStart', () => clock.advance(1000));
    reassignOpens(phases, []);
    expect(phases.seconds()).toMatchObject({ workerStart: 1, sessionOpen: 0, compile: 0 });
    // A worker that says its open took 5 s inside a 1 s span (its own clock, a slow reply): capped, the sum kept.
    reassignOpens(phases, [[{ openMs: 5000, compileMs: 500 }]]);
    const seconds = phases.seconds();
    expect(seconds).toMatchObject({ workerStart: 0, sessionOpen: 1, compile: 0 });
    expect(total(seconds)).toBe(1);
  });
});

describe("timedRun: a run request charged to warm-up, its passes and compiles moved out by the worker's figures", () => {
  // A 5 s request: 1 s of timed passes, 0.5 s of end-to-end ones, and (a compiled model's first pass of a new shape)
  // 3 s of compile in its warm-up; the 0.5 s left is warm-up passes and the round trip.
  const request = async (compileMs: number | undefined) => {
    const clock = fakeClock();
    const phases = phaseClock(clock.now);
    await timedRun(phases, () => {
      clock.advance(5000);
      return Promise.resolve({
        status: 'ok' as const,
        latenciesMs: [600, 400],
        endToEndLatenciesMs: [500],
        ...(compileMs !== undefined ? { compileMs } : {}),
      });
    });
    return phases.seconds();
  };

  it('moves a compile in warm-up to compile', async () => {
    const seconds = await request(3000);
    expect(seconds).toMatchObject({ timedPasses: 1, endToEndPasses: 0.5, compile: 3, warmUp: 0.5 });
    expect(total(seconds)).toBe(5);
  });

  it('leaves warm-up whole when the worker compiled nothing', async () => {
    const seconds = await request(undefined);
    expect(seconds).toMatchObject({ timedPasses: 1, endToEndPasses: 0.5, compile: 0, warmUp: 3.5 });
    expect(total(seconds)).toBe(5);
  });

  it('charges a degraded request to warm-up whole: it has no figures of its own', async () => {
    const clock = fakeClock();
    const phases = phaseClock(clock.now);
    await timedRun(phases, () => {
      clock.advance(2000);
      return Promise.resolve({ status: 'degraded' as const, reason: 'the worker exited' });
    });
    expect(phases.seconds()).toMatchObject({ warmUp: 2, timedPasses: 0, compile: 0 });
  });
});
