import type { Attempt, Rollback, Series } from "../api/client";
import { smooth } from "./smooth";

/** One line of a chart: an attempt's values on the shared x axis (null where it has none). */
export type Line = { attempt: number; values: (number | null)[]; min: (number | null)[]; max: (number | null)[] };

/** A series laid out for uPlot: shared, sorted x (steps or seconds) and one line per attempt. */
export type ChartData = { x: number[]; lines: Line[]; bucketSteps: number };

/**
 * Lays a series out for a chart. Each attempt gets its own line: after a rollback the replayed
 * steps belong to the new attempt, so the abandoned path and the resumed one are both visible.
 *
 * @param by "step" or "time" (seconds since the series' first point)
 * @param smoothing debiased EMA weight in [0, 1)
 */
export function layout(series: Series, by: "step" | "time", smoothing: number): ChartData {
  const data = series.data ?? [];
  const t0 = data.reduce((m, p) => Math.min(m, p.time ?? Infinity), Infinity);
  const xOf = (p: (typeof data)[number]) => (by === "step" ? (p.step ?? 0) : (p.time ?? 0) - t0);
  const xs = Array.from(new Set(data.map(xOf))).sort((a, b) => a - b);
  const index = new Map(xs.map((x, i) => [x, i]));
  const attempts = Array.from(new Set(data.map((p) => p.attempt ?? 1))).sort((a, b) => a - b);
  const lines: Line[] = attempts.map((a) => {
    const values: (number | null)[] = new Array(xs.length).fill(null);
    const min: (number | null)[] = new Array(xs.length).fill(null);
    const max: (number | null)[] = new Array(xs.length).fill(null);
    for (const p of data) {
      if ((p.attempt ?? 1) !== a) continue;
      const i = index.get(xOf(p))!;
      values[i] = num(p.value);
      min[i] = num(p.min);
      max[i] = num(p.max);
    }
    return { attempt: a, values: smoothAlong(values, smoothing), min, max };
  });
  return { x: xs, lines, bucketSteps: series.bucketSteps ?? 1 };
}

function num(v: unknown): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

/** Smooths the defined stretch of a line only, leaving the gaps of other attempts alone. */
function smoothAlong(values: (number | null)[], weight: number): (number | null)[] {
  const idx: number[] = [];
  const vals: (number | null)[] = [];
  values.forEach((v, i) => {
    if (v != null) {
      idx.push(i);
      vals.push(v);
    }
  });
  const s = smooth(vals, weight);
  const out: (number | null)[] = new Array(values.length).fill(null);
  idx.forEach((i, k) => (out[i] = s[k]));
  return out;
}

/** What a chart marks: spikes (instability reports) and, for each rollback, where training resumed and which data it skipped. */
export type Marks = {
  spikes: { step: number; attempt: number; kind: string; message: string }[];
  resumes: { step: number; attempt: number; cause: string }[];
  skipped: { from: number; to: number; attempt: number }[];
};

/**
 * The rollbacks and restarts of a stage as chart marks. A skip window is in batches; one batch is
 * one optimizer step, so it is drawn on the step axis as it is.
 */
export function marks(rollbacks: Rollback[], attempts: Attempt[]): Marks {
  const spikes = rollbacks
    .filter((r) => r.step != null)
    .map((r) => ({ step: r.step!, attempt: r.attempt ?? 0, kind: r.kind ?? "instability", message: r.message ?? "" }));
  const resumes = attempts
    .filter((a) => a.cause !== "first")
    .map((a) => ({ step: a.resumeStep ?? 0, attempt: a.number ?? 0, cause: a.cause ?? "" }));
  const skipped: Marks["skipped"] = [];
  for (const a of attempts) {
    for (const w of (a.skipWindows ?? []) as { fromBatch?: number; toBatch?: number }[]) {
      if (w.fromBatch != null && w.toBatch != null) {
        skipped.push({ from: w.fromBatch, to: w.toBatch, attempt: a.number ?? 0 });
      }
    }
  }
  return { spikes, resumes, skipped };
}

/**
 * Several runs' series of one metric on one chart: a line per run; where a run rolled back, a
 * step's value is the latest attempt's (the path the run finally took).
 */
export function overlay(runs: Series[], by: "step" | "time", smoothing: number): ChartData {
  const effective = runs.map((s) => {
    const best = new Map<number, { attempt: number; value: number | null; time: number }>();
    for (const p of s.data ?? []) {
      const step = p.step ?? 0;
      const prev = best.get(step);
      if (!prev || (p.attempt ?? 1) >= prev.attempt) {
        best.set(step, { attempt: p.attempt ?? 1, value: num(p.value), time: p.time ?? 0 });
      }
    }
    const t0 = Math.min(...Array.from(best.values()).map((v) => v.time));
    return new Map(Array.from(best.entries()).map(([step, v]) => [by === "step" ? step : v.time - t0, v.value]));
  });
  const xs = Array.from(new Set(effective.flatMap((m) => Array.from(m.keys())))).sort((a, b) => a - b);
  const lines: Line[] = effective.map((m, i) => {
    const values = xs.map((x) => (m.has(x) ? m.get(x)! : null));
    return { attempt: i + 1, values: smoothAlong(values, smoothing), min: [], max: [] };
  });
  return { x: xs, lines, bucketSteps: 1 };
}

/**
 * RLHF's generation share: of a PPO step's time, the part spent generating (generate_ms over
 * generate_ms + score_ms + train_ms), per step and attempt; null when the parts are not logged.
 */
export function generationShare(all: Series[]): Series | null {
  const get = (n: string) => all.find((s) => s.name === n);
  const g = get("generate_ms");
  const s = get("score_ms");
  const t = get("train_ms");
  if (!g || !s || !t) return null;
  const key = (p: { attempt?: number; step?: number }) => `${p.attempt ?? 1}:${p.step ?? 0}`;
  const sv = new Map((s.data ?? []).map((p) => [key(p), p.value ?? 0]));
  const tv = new Map((t.data ?? []).map((p) => [key(p), p.value ?? 0]));
  const data = (g.data ?? [])
    .filter((p) => sv.has(key(p)) && tv.has(key(p)))
    .map((p) => {
      const total = (p.value ?? 0) + sv.get(key(p))! + tv.get(key(p))!;
      const v = total > 0 ? (p.value ?? 0) / total : 0;
      return { ...p, value: v, min: v, max: v };
    });
  return { name: "generation_share", bucketSteps: g.bucketSteps, points: data.length, data };
}
