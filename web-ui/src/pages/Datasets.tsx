import { useState } from "react";
import { api, call, send, type Dataset } from "../api/client";
import { ErrorBox } from "../components/ErrorBox";
import { age, bytes } from "../lib/format";
import { useLoad } from "../lib/useLoad";
import { ListHead } from "../components/ListHead";

/** The team's datasets: the newest version of each, and an upload form. */
export function Datasets() {
  const { data, error, reload } = useLoad(() => call(api.GET("/api/v1/datasets", {})), [], 10000);
  const [file, setFile] = useState<File | null>(null);
  const [name, setName] = useState("");
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<unknown>(null);
  const upload = async () => {
    if (!file) return;
    setBusy(true);
    setResult(null);
    const n = name || file.name.replace(/\.(jsonl|ndjson|json|parquet)$/, "").toLowerCase();
    // the server tells Parquet from JSONL by the file's first bytes; the type is for proxies and logs
    const type = file.name.endsWith(".parquet") ? "application/vnd.apache.parquet" : "application/x-ndjson";
    try {
      const d = await send<Dataset>("POST", `/api/v1/datasets/${encodeURIComponent(n)}`, file, type);
      setResult(`uploaded ${d.name}@v${d.version}: ${d.records} ${d.format} records (${d.file}) — use it as ${d.source}`);
      reload();
    } catch (e) {
      setResult(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section>
      <header className="page-head">
        <h1>Datasets</h1>
      </header>
      <form
        className="toolbar"
        onSubmit={(e) => {
          e.preventDefault();
          upload();
        }}
      >
        <label>
          JSONL or Parquet file <input type="file" accept=".jsonl,.ndjson,.json,.parquet" onChange={(e) => setFile(e.target.files?.[0] ?? null)} />
        </label>
        <label>
          name <input value={name} onChange={(e) => setName(e.target.value)} placeholder="from the file name" />
        </label>
        <button type="submit" className="primary" disabled={!file || busy}>
          {busy ? "Uploading…" : "Upload"}
        </button>
      </form>
      {typeof result === "string" ? <p className="ok">{result}</p> : <ErrorBox error={result} />}
      <ErrorBox error={error} />
      <table className="list">
        <ListHead columns={["Dataset", "Format", "Records", "Size", "sha256", "Uploaded"]} />
        <tbody>
          {(data?.datasets ?? []).map((d) => (
            <tr key={d.id}>
              <td>
                <strong>{d.name}</strong>@v{d.version}
              </td>
              <td>
                {d.format} <span className="muted">{d.file}</span>
              </td>
              <td className="mono">{d.records?.toLocaleString("en")}</td>
              <td>{bytes(d.bytes)}</td>
              <td className="mono">{d.sha256?.slice(0, 12)}…</td>
              <td>{age(d.createdAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
