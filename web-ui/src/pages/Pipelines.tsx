import { useState } from "react";
import { api, call, type Brief } from "../api/client";
import { ErrorBox } from "../components/ErrorBox";
import { StatusChip } from "../components/StatusChip";
import { age } from "../lib/format";
import { useLoad } from "../lib/useLoad";
import { href } from "../router";
import { ListHead } from "../components/ListHead";

const FILTERS: Record<string, string | undefined> = {
  all: undefined,
  active: "PENDING,RUNNING,PAUSED,WAITING_APPROVAL",
  succeeded: "SUCCEEDED",
  failed: "FAILED",
  cancelled: "CANCELLED",
};

/** The team's pipelines: status, stages as chips, progress, age; filters, search, compare. */
export function Pipelines() {
  const [filter, setFilter] = useState("all");
  const [search, setSearch] = useState("");
  const [more, setMore] = useState<Brief[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [picked, setPicked] = useState<string[]>([]);
  const { data, error } = useLoad(
    async () => {
      const page = await call(
        api.GET("/api/v1/pipelines", { params: { query: { status: FILTERS[filter], pageSize: 100 } } }),
      );
      setMore([]);
      setNext(page.nextPageToken ?? null);
      return page.pipelines ?? [];
    },
    [filter],
    3000,
  );
  const loadMore = async () => {
    if (!next) return;
    const page = await call(
      api.GET("/api/v1/pipelines", {
        params: { query: { status: FILTERS[filter], pageSize: 100, pageToken: next } },
      }),
    );
    setMore((m) => [...m, ...(page.pipelines ?? [])]);
    setNext(page.nextPageToken ?? null);
  };
  const rows = [...(data ?? []), ...more].filter(
    (p) => !search || (p.name ?? "").includes(search) || (p.id ?? "").startsWith(search),
  );
  const toggle = (id: string) =>
    setPicked((p) => (p.includes(id) ? p.filter((x) => x !== id) : [...p, id]));

  return (
    <section>
      <header className="page-head">
        <h1>Pipelines</h1>
        <a className="button primary" href="#/new">
          New pipeline
        </a>
      </header>
      <div className="toolbar">
        <label>
          Show{" "}
          <select value={filter} onChange={(e) => setFilter(e.target.value)}>
            {Object.keys(FILTERS).map((f) => (
              <option key={f}>{f}</option>
            ))}
          </select>
        </label>
        <label>
          Search <input type="search" value={search} onChange={(e) => setSearch(e.target.value)} placeholder="name or id" />
        </label>
        <a
          className={`button ${picked.length < 2 ? "disabled" : ""}`}
          aria-disabled={picked.length < 2}
          href={picked.length >= 2 ? `#/compare?ids=${picked.join(",")}` : undefined}
        >
          Compare {picked.length || ""}
        </a>
      </div>
      <ErrorBox error={error} />
      <table className="list">
        <ListHead columns={[{ aria: "select" }, "Name", "Status", "Stages", "Step", "Created"]} />
        <tbody>
          {rows.map((p) => {
            const running = p.stages?.find((s) => s.status !== "SUCCEEDED" && s.status !== "PENDING") ?? p.stages?.[0];
            return (
              <tr key={p.id}>
                <td>
                  <input type="checkbox" aria-label={`compare ${p.name}`} checked={picked.includes(p.id!)} onChange={() => toggle(p.id!)} />
                </td>
                <td>
                  <a href={href("pipelines", p.id!)}>{p.name}</a>
                  <div className="muted mono">{p.id?.slice(0, 8)}</div>
                </td>
                <td>
                  <StatusChip status={p.status} />
                </td>
                <td className="chips">
                  {p.stages?.map((s) => <StatusChip key={s.name} status={s.status} label={s.name} />)}
                </td>
                <td className="mono">{running ? `${running.name} ${running.currentStep}/${running.totalSteps}` : "–"}</td>
                <td title={p.createdAt}>{age(p.createdAt)}</td>
              </tr>
            );
          })}
          {data && rows.length === 0 && (
            <tr>
              <td colSpan={6} className="muted">
                No pipelines here yet. Submit one with “New pipeline”, <code>anneal submit</code> or <code>./anneal demo</code>.
              </td>
            </tr>
          )}
        </tbody>
      </table>
      {next && (
        <button type="button" onClick={loadMore}>
          Load more
        </button>
      )}
    </section>
  );
}
