/**
 * The median of a scratch array, found in place: the bootstrap takes thousands of medians of arrays it refills each
 * time, and simple-statistics' median copies its input first (the copies were most of judging's garbage collection).
 * The result is simple-statistics' own to the bit: the same order statistic, or the same two added and halved.
 */
import { quickselect } from 'simple-statistics';

/** median(values) as simple-statistics computes it; reorders `values` (a scratch array the caller refills). */
export function medianInPlace(values: number[]): number {
  const n = values.length;
  if (n === 0) return Number.NaN;
  const upper = n >> 1;
  quickselect(values, upper, 0, n - 1);
  if (n % 2 === 1) return values[upper]!;
  // Everything before `upper` is ≤ it now: the largest of those is the lower middle order statistic.
  let lower = values[0]!;
  for (let i = 1; i < upper; i++) if (values[i]! > lower) lower = values[i]!;
  return (lower + values[upper]!) / 2;
}
