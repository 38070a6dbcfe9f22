/**
 * The two-stage bootstrap's resampled median (repetitions with replacement, then passes with replacement within
 * each, pooled), by counting ranks instead of selecting values.
 *
 * Every pass of every repetition is ranked once (its position among all the passes, sorted); a resample draws the
 * same random numbers in the same order as pooling the drawn values would, counts the ranks it drew, and reads the
 * middle order statistics off the counts. The order statistics of the drawn values are the values at the order
 * statistics of their ranks, so each median is the one a selection over the pooled values gave (the middle value,
 * or the two middle ones added and halved), to the bit: a test holds the two together, and judging's pinned figures
 * are unchanged. It is found in one pass over a small array of counts instead of a quickselect over a refilled
 * copy of the values, which was most of a run's judging time (2,000 resamples per cell, per geometric mean and per
 * ratio).
 */
export class TwoStageMedian {
  private readonly sorted: Float64Array;
  private readonly ranks: readonly Int32Array[];
  private readonly counts: Int32Array;

  constructor(reps: readonly (readonly number[])[]) {
    const all: { value: number; rep: number; pass: number }[] = [];
    reps.forEach((rep, r) => rep.forEach((value, pass) => all.push({ value, rep: r, pass })));
    all.sort((a, b) => a.value - b.value);
    this.sorted = Float64Array.from(all, (e) => e.value);
    const ranks = reps.map((rep) => new Int32Array(rep.length));
    all.forEach((e, rank) => {
      ranks[e.rep]![e.pass] = rank;
    });
    this.ranks = ranks;
    this.counts = new Int32Array(all.length);
  }

  /** One resample's median; NaN when it drew no pass (every repetition it drew was empty). */
  resample(random: () => number): number {
    const { ranks, counts, sorted } = this;
    let drawn = 0;
    for (let r = 0; r < ranks.length; r++) {
      const rep = ranks[Math.floor(random() * ranks.length)]!;
      const n = rep.length;
      for (let i = 0; i < n; i++) counts[rep[Math.floor(random() * n)]!]!++;
      drawn += n;
    }
    if (drawn === 0) return Number.NaN;
    const upper = drawn >> 1;
    const even = drawn % 2 === 0;
    let below = 0; // draws of lower ranks than the current one
    let lower = Number.NaN;
    let middle = Number.NaN;
    for (let rank = 0; rank < counts.length; rank++) {
      const c = counts[rank]!;
      if (c === 0) continue;
      if (even && below <= upper - 1 && upper - 1 < below + c) lower = sorted[rank]!;
      if (below <= upper && upper < below + c) {
        middle = sorted[rank]!;
        break;
      }
      below += c;
    }
    counts.fill(0);
    return even ? (lower + middle) / 2 : middle;
  }
}
