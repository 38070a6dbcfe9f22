/** Number formatting shared by the markdown and CSV reports (text from outside: escape.ts). */

/** 4 significant digits, no exponent for ordinary magnitudes; "—" for a missing value. */
export function num(value: number | null | undefined, digits = 4): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  if (value !== 0 && (Math.abs(value) >= 1e7 || Math.abs(value) < 1e-4)) return value.toExponential(digits - 1);
  return Number(value.toPrecision(digits)).toString();
}

export function interval(ci: readonly [number, number] | null | undefined, digits = 4): string {
  return ci ? `[${num(ci[0], digits)}, ${num(ci[1], digits)}]` : '—';
}
