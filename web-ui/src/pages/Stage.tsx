import { useEffect, useMemo, useRef, useState } from "react";
import { api, call, type Event, type Series } from "../api/client";
import { Chart } from "../components/Chart";
import { ErrorBox } from "../components/ErrorBox";
import { StatusChip } from "../components/StatusChip";
import { duration, num } from "../lib/format";
import { generationShare, layout, marks } from "../lib/series";
import { follow, type SseEvent } from "../lib/sse";
import { useLoad } from "../lib/useLoad";
import { href } from "../router";
import { ListHead } from "../components/ListHead";

const PREFERRED: Record<string, string[]> = {
  pretrain: ["loss", "lr", "grad_norm", "tokens_per_s"],
  sft: ["loss", "lr", "grad_norm", "tokens_per_s"],
  reward: ["loss", "accuracy", "lr", "grad_norm"],
  rlhf: ["reward", "kl", "entropy", "response_length", "generation_share", "policy_loss", "value_loss", "kl_coef", "clip_fraction"],
};

/**
 * A stage: live charts with its rollbacks drawn on them, its attempts and why each ran, the event
 * timeline and a live log tail.
 */
export function StagePage({ id, stage }: { id: string; stage: string }) {
  const { data: p, reload: reloadPipeline } = useLoad(
    () => call(api.GET("/api/v1/pipelines/{id}", { params: { path: { id } } })),
    [id],
    3000,
  );
  const [series, setSeries] = useState<Series[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [by, setBy] = useState<"step" | "time">("step");
  const [smoothing, setSmoothing] = useState(0.6);
  const [extra, setExtra] = useState<string[]>([]);
  const [events, setEvents] = useState<Event[]>([]);
  const lastLoad = useRef(0);

  const loadMetrics = async () => {
    lastLoad.current = Date.now();
    try {
      const m = await call(
        api.GET("/api/v1/pipelines/{id}/stages/{stage}/metrics", { params: { path: { id, stage } } }),
      );
      const all = m.series ?? [];
      const share = generationShare(all);
      setSeries(share ? [...all, share] : all);
      setError(null);
    } catch (e) {
      setError(e);
    }
  };

  useEffect(() => {
    loadMetrics();
    setEvents([]);
    let pending: ReturnType<typeof setTimeout> | null = null;
    let stop = () => {};
    let stopped = false;
    const onEvent = (e: SseEvent) => {
      if (e.event === "end") {
        loadMetrics();
        reloadPipeline();
        return;
      }
      let ev: Event;
      try {
        ev = JSON.parse(e.data);
      } catch {
        return;
      }
      if (ev.stage !== stage) return;
      if (ev.type === "metrics") {
        // new points: reread the (downsampled) series at most every 2 s
        if (!pending) {
          const wait = Math.max(0, 2000 - (Date.now() - lastLoad.current));
          pending = setTimeout(() => {
            pending = null;
            loadMetrics();
          }, wait);
        }
        return;
      }
      setEvents((list) => [...list.slice(-499), ev]);
      if (ev.type === "instability" || ev.type === "finished" || ev.type === "stage") reloadPipeline();
    };
    // the log's tail first (newest first, read backwards), then the stream from the newest event
    (async () => {
      const page = await call(
        api.GET("/api/v1/pipelines/{id}/events", {
          params: { path: { id }, query: { order: "desc", limit: 500, minSeverity: "INFO" } },
        }),
      ).catch(() => null);
      const newest = await call(
        api.GET("/api/v1/pipelines/{id}/events", { params: { path: { id }, query: { order: "desc", limit: 1 } } }),
      ).catch(() => null);
      if (stopped) return;
      setEvents((page?.events ?? []).filter((e) => e.stage === stage).reverse());
      stop = follow(`/api/v1/pipelines/${id}/events/stream`, onEvent, newest?.events?.[0]?.id ?? 0);
    })();
    return () => {
      stopped = true;
      stop();
      if (pending) clearTimeout(pending);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [id, stage]);

  const s = p?.stages?.find((x) => x.name === stage);
  const m = useMemo(() => (s ? marks(s.rollbackHistory ?? [], s.attempts ?? []) : undefined), [s]);
  const names = series.map((x) => x.name!);
  const preferred = (PREFERRED[s?.kind ?? "pretrain"] ?? []).filter((n) => names.includes(n));
  const shown = [...preferred, ...extra.filter((n) => !preferred.includes(n))];
  const charts = useMemo(
    () =>
      shown
        .map((n) => series.find((x) => x.name === n))
        .filter((x): x is Series => !!x)
        .map((x) => ({ name: x.name!, data: layout(x, by, x.name === "lr" || x.name === "kl_coef" ? 0 : smoothing) })),
    [series, by, smoothing, shown.join(",")],
  );

  if (!p) return <ErrorBox error={error} />;
  if (!s) return <p className="error">This pipeline has no stage “{stage}”.</p>;

  return (
    <section>
      <header className="page-head">
        <h1>
          <a href={href("pipelines", id)}>{p.name}</a> / {stage} <StatusChip status={s.status} />
        </h1>
      </header>
      <p className="muted">
        {s.kind} · step {s.currentStep}/{s.totalSteps} · {s.rollbacks} rollback{s.rollbacks === 1 ? "" : "s"} ·{" "}
        {s.restarts} restart{s.restarts === 1 ? "" : "s"} · ran{" "}
        {duration(s.startedAt, s.finishedAt)}
        {s.failureReason && <span className="error"> · {s.failureReason}</span>}
      </p>
      <div className="toolbar" role="group" aria-label="chart settings">
        <label>
          x axis{" "}
          <select value={by} onChange={(e) => setBy(e.target.value as "step" | "time")}>
            <option value="step">step</option>
            <option value="time">wall time</option>
          </select>
        </label>
        <label>
          smoothing {smoothing.toFixed(2)}{" "}
          <input
            type="range"
            min={0}
            max={0.99}
            step={0.01}
            value={smoothing}
            onChange={(e) => setSmoothing(Number(e.target.value))}
            aria-label="smoothing"
          />
        </label>
        <details>
          <summary>more metrics</summary>
          {names
            .filter((n) => !preferred.includes(n))
            .map((n) => (
              <label key={n} className="check">
                <input
                  type="checkbox"
                  checked={extra.includes(n)}
                  onChange={() => setExtra((x) => (x.includes(n) ? x.filter((y) => y !== n) : [...x, n]))}
                />
                {n}
              </label>
            ))}
        </details>
      </div>
      {m && (m.spikes.length > 0 || m.resumes.length > 0) && (
        <p className="legend">
          <span className="mark-spike">▲ spike</span> <span className="mark-skip">▇ skipped data</span>{" "}
          <span className="mark-resume">┆ resumed from a checkpoint</span>
        </p>
      )}
      <ErrorBox error={error} />
      <div className="charts">
        {charts.map((c) => (
          <Chart key={c.name} title={c.name} data={c.data} marks={m} by={by} />
        ))}
        {!charts.length && <p className="muted">No metrics yet.</p>}
      </div>
      <h2>Attempts</h2>
      <table className="list">
        <ListHead columns={["#", "Why", "Status", "Resumed at", "Skipped batches", "LR ×", "Exit", "Reason", "Ran"]} />
        <tbody>
          {s.attempts?.map((a) => (
            <tr key={a.number}>
              <td>{a.number}</td>
              <td>{a.cause}</td>
              <td>
                <StatusChip status={a.status} />
              </td>
              <td className="mono">{a.resumeStep ?? (a.cause === "first" ? "start" : "–")}</td>
              <td className="mono">
                {((a.skipWindows ?? []) as { fromBatch: number; toBatch: number }[])
                  .map((w) => `${w.fromBatch}–${w.toBatch}`)
                  .join(", ") || "–"}
              </td>
              <td className="mono">{a.lrFactor != null ? num(a.lrFactor) : "–"}</td>
              <td className="mono">{a.exitCode ?? "–"}</td>
              <td>{a.reason ?? ""}</td>
              <td>{duration(a.startedAt, a.finishedAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Rollbacks</h2>
      {s.rollbackHistory?.length ? (
        <ol className="timeline">
          {s.rollbackHistory.map((r, i) => (
            <li key={i}>
              <strong>{r.kind}</strong> at step {r.step} in attempt {r.attempt}: {r.message}
            </li>
          ))}
        </ol>
      ) : (
        <p className="muted">None: training stayed healthy.</p>
      )}
      <h2>Log</h2>
      <ol className="log" aria-live="polite" data-testid="log">
        {events.map((e) => (
          <li key={e.id} className={`sev-${(e.severity ?? "").toLowerCase()}`}>
            <span className="mono muted">{e.time?.slice(11, 19)}</span> <span className="mono">a{e.attempt ?? "-"}</span>{" "}
            {e.message}
          </li>
        ))}
      </ol>
    </section>
  );
}
