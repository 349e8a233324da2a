import { useState } from "react";
import { api, call, type Schemas } from "../api/client";
import { ErrorBox } from "../components/ErrorBox";
import { age, bytes } from "../lib/format";
import { useLoad } from "../lib/useLoad";
import { href } from "../router";
import { ListHead } from "../components/ListHead";

const LABELS = ["registered", "staging", "production", "archived"] as const;

/** The model registry: versions, labels, lineage, promotion and downloads. */
export function Models() {
  const { data, error, reload } = useLoad(() => call(api.GET("/api/v1/models", {})), [], 10000);
  const [files, setFiles] = useState<Schemas["Download"] | null>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  const promote = async (id: string, label: string) => {
    try {
      await call(api.POST("/api/v1/models/{id}/promote", { params: { path: { id } }, body: { label } }));
      reload();
    } catch (e) {
      setActionError(e);
    }
  };
  const download = async (id: string) => {
    try {
      setFiles(await call(api.GET("/api/v1/models/{id}/download", { params: { path: { id } } })));
    } catch (e) {
      setActionError(e);
    }
  };
  const models = data?.models ?? [];
  return (
    <section>
      <header className="page-head">
        <h1>Models</h1>
      </header>
      <p className="muted">
        Register a stage's final checkpoint with <code>anneal models register</code> or POST /api/v1/models, import a
        Hugging Face checkpoint with <code>anneal models import DIR --name N</code>; a spec starts from one with{" "}
        <code>from: model:&lt;name&gt;</code>.
      </p>
      <ErrorBox error={error ?? actionError} />
      <table className="list">
        <ListHead columns={["Model", "Label", "From", "Data", "Registered", ""]} />
        <tbody>
          {models.map((m) => {
            const lin = (m.lineage ?? {}) as {
              pipeline?: string;
              pipelineName?: string;
              stage?: string;
              step?: number;
              datasets?: { name: string; version: number }[];
              origin?: string;
              architecture?: string;
            };
            return (
              <tr key={m.id}>
                <td>
                  <strong>{m.name}</strong>@v{m.version}
                </td>
                <td>
                  <select aria-label={`label of ${m.name} v${m.version}`} value={m.label} onChange={(e) => promote(m.id!, e.target.value)}>
                    {LABELS.map((l) => (
                      <option key={l}>{l}</option>
                    ))}
                  </select>
                </td>
                <td>
                  {lin.pipeline ? (
                    <a href={href("pipelines", lin.pipeline)}>
                      {lin.pipelineName} / {lin.stage} step {lin.step}
                    </a>
                  ) : lin.origin === "imported" ? (
                    `imported (${lin.architecture})`
                  ) : (
                    "–"
                  )}
                </td>
                <td>{lin.datasets?.map((d) => `${d.name}@v${d.version}`).join(", ") || "–"}</td>
                <td>{age(m.createdAt)}</td>
                <td>
                  <button type="button" onClick={() => download(m.id!)}>
                    Download
                  </button>
                </td>
              </tr>
            );
          })}
          {data && !models.length && (
            <tr>
              <td colSpan={6} className="muted">
                No models registered yet.
              </td>
            </tr>
          )}
        </tbody>
      </table>
      {files && (
        <ul className="downloads">
          {files.files?.map((f) => (
            <li key={f.path}>
              <a href={f.url} download>
                {f.path}
              </a>{" "}
              <span className="muted">{bytes(f.bytes)}</span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
