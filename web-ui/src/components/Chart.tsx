import { useEffect, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import type { ChartData, Marks } from "../lib/series";
import { num } from "../lib/format";

const COLOURS = ["#0969da", "#bf3989", "#1a7f37", "#9a6700", "#8250df", "#cf222e"];

export type ChartProps = {
  title: string;
  data: ChartData;
  marks?: Marks;
  by: "step" | "time";
  height?: number;
  /** a name per line (compare view); default "attempt N" */
  labels?: string[];
};

/**
 * One metric as a uPlot chart: a line per attempt (or per run), the min–max band of downsampled
 * buckets, and — on the step axis — the stage's rollbacks drawn where they happened: a red marker
 * at each spike, the skipped data window shaded, a dashed line where the next attempt resumed.
 */
export function Chart({ title, data, marks, by, height = 220, labels }: ChartProps) {
  const el = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);

  useEffect(() => {
    if (!el.current) return;
    const series: uPlot.Series[] = [{ label: by === "step" ? "step" : "seconds" }];
    const columns: (number | null)[][] = [];
    data.lines.forEach((l, i) => {
      series.push({
        label: labels?.[i] ?? `attempt ${l.attempt}`,
        stroke: COLOURS[i % COLOURS.length],
        width: 1.5,
        spanGaps: false,
        value: (_u, v) => (v == null ? "–" : num(v)),
      });
      columns.push(l.values);
    });
    const banded = data.bucketSteps > 1 && !labels;
    if (banded) {
      data.lines.forEach((l, i) => {
        series.push({ label: `max ${l.attempt}`, stroke: COLOURS[i % COLOURS.length] + "55", width: 0.5, show: true });
        columns.push(l.max);
      });
    }
    const draw = (u: uPlot) => {
      if (!marks || by !== "step") return;
      const ctx = u.ctx;
      const { top, height: h } = u.bbox;
      ctx.save();
      for (const s of marks.skipped) {
        const x0 = u.valToPos(s.from, "x", true);
        const x1 = u.valToPos(s.to, "x", true);
        ctx.fillStyle = "rgba(154, 103, 0, 0.15)";
        ctx.fillRect(Math.min(x0, x1), top, Math.max(2, Math.abs(x1 - x0)), h);
      }
      ctx.setLineDash([4, 4]);
      ctx.strokeStyle = "#57606a";
      for (const r of marks.resumes) {
        const x = u.valToPos(r.step, "x", true);
        ctx.beginPath();
        ctx.moveTo(x, top);
        ctx.lineTo(x, top + h);
        ctx.stroke();
      }
      ctx.setLineDash([]);
      ctx.fillStyle = "#cf222e";
      for (const s of marks.spikes) {
        const x = u.valToPos(s.step, "x", true);
        ctx.beginPath();
        ctx.moveTo(x, top);
        ctx.lineTo(x - 6, top - 0.5 + 10);
        ctx.lineTo(x + 6, top - 0.5 + 10);
        ctx.closePath();
        ctx.fill();
        ctx.fillRect(x - 0.75, top, 1.5, h);
      }
      ctx.restore();
    };
    const opts: uPlot.Options = {
      title,
      width: el.current.clientWidth || 600,
      height,
      scales: { x: { time: false } },
      series,
      axes: [{ label: by === "step" ? "step" : "seconds" }, { size: 60 }],
      legend: { live: true },
      cursor: { drag: { x: true, y: false } },
      hooks: { draw: [draw] },
    };
    const u = new uPlot(opts, [data.x, ...columns] as uPlot.AlignedData, el.current);
    plot.current = u;
    const resize = new ResizeObserver(() => {
      if (el.current) u.setSize({ width: el.current.clientWidth, height });
    });
    resize.observe(el.current);
    return () => {
      resize.disconnect();
      u.destroy();
      plot.current = null;
    };
  }, [title, data, marks, by, height, labels]);

  return (
    <figure className="chart" aria-label={`chart of ${title}`} data-testid={`chart-${title}`}>
      <div ref={el} />
      {marks && marks.spikes.length > 0 && by === "step" && (
        <figcaption>
          {marks.spikes.map((s, i) => (
            <span key={i} className="mark-spike" data-testid="rollback-marker" title={s.message}>
              ▲ {s.kind} at step {s.step} (attempt {s.attempt})
              {marks.resumes
                .filter((r) => r.attempt === s.attempt + 1)
                .map((r) => ` → attempt ${r.attempt} resumed at step ${r.step}`)}
            </span>
          ))}
        </figcaption>
      )}
    </figure>
  );
}
