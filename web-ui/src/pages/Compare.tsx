import { useEffect, useState } from "react";
import { api, call, type Detail, type Series } from "../api/client";
import { Chart } from "../components/Chart";
import { ErrorBox } from "../components/ErrorBox";
import { overlay } from "../lib/series";
import { href } from "../router";

/** One metric of several runs on one chart. */
export function Compare({ ids }: { ids: string[] }) {
  const [pipelines, setPipelines] = useState<Detail[]>([]);
  const [stage, setStage] = useState("");
  const [metric, setMetric] = useState("loss");
  const [series, setSeries] = useState<(Series | null)[]>([]);
  const [names, setNames] = useState<string[]>([]);
  const [smoothing, setSmoothing] = useState(0.6);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    Promise.all(ids.map((id) => call(api.GET("/api/v1/pipelines/{id}", { params: { path: { id } } }))))
      .then((ps) => {
        setPipelines(ps);
        setStage((s) => s || ps[0]?.stages?.[0]?.name || "");
      })
      .catch(setError);
  }, [ids.join(",")]);

  useEffect(() => {
    if (!stage) return;
    Promise.all(
      pipelines.map((p) =>
        p.stages?.some((s) => s.name === stage)
          ? call(api.GET("/api/v1/pipelines/{id}/stages/{stage}/metrics", { params: { path: { id: p.id!, stage } } }))
          : Promise.resolve(null),
      ),
    )
      .then((reads) => {
        setNames(Array.from(new Set(reads.flatMap((r) => r?.series?.map((s) => s.name!) ?? []))).sort());
        setSeries(reads.map((r) => r?.series?.find((s) => s.name === metric) ?? null));
      })
      .catch(setError);
  }, [pipelines, stage, metric]);

  const present = pipelines.map((p, i) => ({ p, s: series[i] })).filter((x) => x.s);
  const stages = Array.from(new Set(pipelines.flatMap((p) => p.stages?.map((s) => s.name!) ?? [])));
  return (
    <section>
      <header className="page-head">
        <h1>Compare</h1>
      </header>
      <div className="toolbar">
        <label>
          stage{" "}
          <select value={stage} onChange={(e) => setStage(e.target.value)}>
            {stages.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
        <label>
          metric{" "}
          <select value={metric} onChange={(e) => setMetric(e.target.value)}>
            {(names.length ? names : [metric]).map((n) => (
              <option key={n}>{n}</option>
            ))}
          </select>
        </label>
        <label>
          smoothing{" "}
          <input type="range" min={0} max={0.99} step={0.01} value={smoothing} onChange={(e) => setSmoothing(Number(e.target.value))} />
        </label>
      </div>
      <ErrorBox error={error} />
      <ul className="inline">
        {pipelines.map((p) => (
          <li key={p.id}>
            <a href={href("pipelines", p.id!)}>{p.name}</a> <span className="mono muted">{p.id?.slice(0, 8)}</span>
          </li>
        ))}
      </ul>
      {present.length > 0 && (
        <Chart
          title={metric}
          data={overlay(present.map((x) => x.s!), "step", smoothing)}
          by="step"
          height={320}
          labels={present.map((x) => `${x.p.name} ${x.p.id?.slice(0, 8)}`)}
        />
      )}
    </section>
  );
}
