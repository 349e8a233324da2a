import { useState } from "react";
import { api, call, type Checkpoint, type Detail, type Schemas } from "../api/client";
import { ErrorBox } from "../components/ErrorBox";
import { StageGraph } from "../components/StageGraph";
import { StatusChip } from "../components/StatusChip";
import { checkpointRowState } from "../lib/checkpoints";
import { age, bytes, duration, num } from "../lib/format";
import { useLoad } from "../lib/useLoad";
import { href } from "../router";
import { ListHead } from "../components/ListHead";

const ACTIVE = ["PENDING", "RUNNING", "PAUSED", "WAITING_APPROVAL"];

/** A pipeline: stage graph, actions, eval figures per stage, checkpoints, lineage. */
export function Pipeline({ id }: { id: string }) {
  const { data: p, error, reload } = useLoad(
    () => call(api.GET("/api/v1/pipelines/{id}", { params: { path: { id } } })),
    [id],
    2000,
  );
  const [actionError, setActionError] = useState<unknown>(null);
  if (!p) return <ErrorBox error={error} />;
  const active = ACTIVE.includes(p.status ?? "");

  const act = async (what: "cancel" | "pause" | "resume") => {
    setActionError(null);
    try {
      await call(api.POST(`/api/v1/pipelines/{id}/${what}`, { params: { path: { id } } }));
      reload();
    } catch (e) {
      setActionError(e);
    }
  };
  const approve = async (stage: string) => {
    try {
      await call(api.POST("/api/v1/pipelines/{id}/approve", { params: { path: { id } }, body: { stage } }));
      reload();
    } catch (e) {
      setActionError(e);
    }
  };
  const clone = async () => {
    try {
      const d = await call(
        api.POST("/api/v1/pipelines/{id}/clone", {
          params: { path: { id } },
          body: { set: { "metadata.name": `${p.name}-clone` } as unknown as Record<string, Schemas["JsonNode"]> },
        }),
      );
      window.location.hash = href("pipelines", d.id!);
    } catch (e) {
      setActionError(e);
    }
  };
  const waiting = p.stages?.find((s) => s.status === "WAITING_APPROVAL");

  return (
    <section>
      <header className="page-head">
        <h1>
          {p.name} <StatusChip status={p.status} />
        </h1>
        <div className="actions">
          {active && p.status !== "PAUSED" && (
            <button type="button" onClick={() => act("pause")}>
              Pause
            </button>
          )}
          {p.status === "PAUSED" && (
            <button type="button" onClick={() => act("resume")}>
              Resume
            </button>
          )}
          {waiting && (
            <button type="button" onClick={() => approve(waiting.name!)}>
              Approve {waiting.name}
            </button>
          )}
          {active && (
            <button type="button" className="danger" onClick={() => act("cancel")}>
              Cancel
            </button>
          )}
          <button type="button" onClick={clone}>
            Clone
          </button>
        </div>
      </header>
      <p className="muted">
        <span className="mono">{p.id}</span> · created {age(p.createdAt)} · ran {duration(p.startedAt, p.finishedAt)}
        {p.lineage?.clonedFrom && (
          <>
            {" "}
            · cloned from <a href={href("pipelines", p.lineage.clonedFrom)}>{p.lineage.clonedFrom.slice(0, 8)}</a>
          </>
        )}
      </p>
      {p.failureReason && <p className="error">{p.failureReason}</p>}
      <ErrorBox error={actionError} />
      <StageGraph pipelineId={id} stages={p.stages ?? []} spec={p.spec as Parameters<typeof StageGraph>[0]["spec"]} />
      <Summary p={p} />
      <Checkpoints id={id} />
      <Lineage lineage={p.lineage} />
    </section>
  );
}

function Summary({ p }: { p: Detail }) {
  const stages = (p.stages ?? []).filter((s) => s.eval && Object.keys(s.eval).length);
  if (!stages.length) return null;
  return (
    <>
      <h2>Evaluation</h2>
      <table className="list">
        <ListHead columns={["Stage", "Figures"]} />
        <tbody>
          {stages.map((s) => (
            <tr key={s.name}>
              <td>
                <a href={href("pipelines", p.id!, "stages", s.name!)}>{s.name}</a>
              </td>
              <td className="figures">
                {Object.entries(s.eval as Record<string, unknown>).map(([k, v]) => (
                  <span key={k}>
                    {k} <strong>{num(v)}</strong>
                  </span>
                ))}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

export function Checkpoints({ id }: { id: string }) {
  const { data, error } = useLoad(
    () => call(api.GET("/api/v1/pipelines/{id}/checkpoints", { params: { path: { id } } })),
    [id],
    10000,
  );
  const [files, setFiles] = useState<{ id: string; d: Schemas["Download"] } | null>(null);
  const download = async (c: Checkpoint) => {
    const d = await call(api.GET("/api/v1/checkpoints/{id}/download", { params: { path: { id: c.id! } } }));
    setFiles({ id: c.id!, d });
  };
  const list = data?.checkpoints ?? [];
  return (
    <>
      <h2>Checkpoints</h2>
      <ErrorBox error={error} />
      <table className="list">
        <ListHead columns={["Stage", "Step", "Attempt", "Health", "Loss", "Size", "sha256 (manifest)", ""]} />
        <tbody>
          {list.map((c) => {
            const row = checkpointRowState(c);
            return (
            <tr key={c.id} className={row.branch === "live" ? undefined : "muted"} data-branch={row.branch}>
              <td>{c.stage}</td>
              <td className="mono">{c.step}</td>
              <td>
                {c.attempt}
                {row.label && <span className="note" data-testid="checkpoint-note"> · {row.label}</span>}
              </td>
              <td>{c.healthy == null ? "–" : c.healthy ? "healthy" : "unhealthy"}</td>
              <td className="mono">{num((c.health as Record<string, unknown> | undefined)?.loss)}</td>
              <td>{row.branch === "deleted" ? "–" : bytes(c.bytes)}</td>
              <td className="mono" title={c.manifestSha256}>
                {c.manifestSha256?.slice(0, 12)}…
              </td>
              <td>
                {row.downloadable && (
                  <button type="button" onClick={() => download(c)} data-testid="download-checkpoint">
                    Download
                  </button>
                )}
              </td>
            </tr>
            );
          })}
          {data && !list.length && (
            <tr>
              <td colSpan={8} className="muted">
                No checkpoints yet.
              </td>
            </tr>
          )}
        </tbody>
      </table>
      {files && (
        <div className="downloads" data-testid="download-links">
          <h3>Files of step {files.d.step} (links valid until {new Date(files.d.expiresAt!).toLocaleTimeString()})</h3>
          <ul>
            {files.d.files?.map((f) => (
              <li key={f.path}>
                <a href={f.url} download>
                  {f.path}
                </a>{" "}
                <span className="muted">
                  {bytes(f.bytes)} · sha256 {f.sha256?.slice(0, 12)}…
                </span>
              </li>
            ))}
          </ul>
        </div>
      )}
    </>
  );
}

function Lineage({ lineage }: { lineage?: Schemas["Lineage"] }) {
  if (!lineage || (!lineage.datasets?.length && !lineage.models?.length)) return null;
  return (
    <>
      <h2>Lineage</h2>
      <ul>
        {lineage.datasets?.map((d) => (
          <li key={d.id}>
            dataset <strong>{d.name}</strong>@v{d.version} <span className="mono muted">sha256 {d.sha256?.slice(0, 12)}…</span>
            {d.deleted ? " (deleted since)" : ""}
          </li>
        ))}
        {lineage.models?.map((m) => (
          <li key={m.id}>
            started from model <strong>{m.name}</strong>@v{m.version} ({m.ref})
          </li>
        ))}
      </ul>
    </>
  );
}
