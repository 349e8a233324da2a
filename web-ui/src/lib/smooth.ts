/**
 * TensorBoard's smoothing: an exponential moving average, debiased so the first points are not
 * pulled towards zero. `weight` in [0, 1): 0 leaves the series as it is. Gaps (null, NaN) are kept
 * as gaps and do not disturb the average.
 */
export function smooth(values: (number | null)[], weight: number): (number | null)[] {
  if (weight <= 0) return values.slice();
  const out: (number | null)[] = new Array(values.length);
  let last = 0;
  let steps = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v == null || !Number.isFinite(v)) {
      out[i] = v ?? null;
      continue;
    }
    last = last * weight + (1 - weight) * v;
    steps++;
    out[i] = last / (1 - Math.pow(weight, steps));
  }
  return out;
}
