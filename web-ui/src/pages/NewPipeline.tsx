import { useState } from "react";
import { Problem, send, type Detail } from "../api/client";
import { lineOf } from "../lib/yamlLine";
import { href } from "../router";

const EXAMPLE = `apiVersion: anneal.dev/v1
kind: Pipeline
metadata: {name: my-run}
model: {preset: micro}
tokenizer: {vocabSize: 300}
datasets:
  - {name: prose, source: "synthetic:prose?docs=400"}
stages:
  - kind: pretrain
    data: [{dataset: prose}]
    hyperparameters: {steps: 100, batchSize: 8, seqLen: 32, lr: 0.002}
    checkpoint: {everySteps: 20}
`;

/** A YAML editor that submits the spec and shows the server's validation error at its line. */
export function NewPipeline({ initial }: { initial?: string }) {
  const [text, setText] = useState(initial ?? EXAMPLE);
  const [error, setError] = useState<{ line: number | null; message: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const lines = text.split("\n");

  const submit = async () => {
    setBusy(true);
    setError(null);
    try {
      const d = await send<Detail>("POST", "/api/v1/pipelines", text, "application/yaml");
      window.location.hash = href("pipelines", d.id!);
    } catch (e) {
      if (e instanceof Problem) setError({ line: lineOf(text, e.field), message: e.detail });
      else setError({ line: null, message: String(e) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <section>
      <header className="page-head">
        <h1>New pipeline</h1>
      </header>
      <p className="muted">
        The spec format is in docs/pipeline-spec.md. Datasets uploaded under “Datasets” are <code>dataset:&lt;name&gt;</code>.
      </p>
      <div className="editor">
        <pre className="gutter" aria-hidden="true">
          {lines.map((_, i) => (
            <span key={i} className={error?.line === i + 1 ? "bad-line" : ""}>
              {i + 1}
              {"\n"}
            </span>
          ))}
        </pre>
        <textarea
          aria-label="pipeline spec (YAML)"
          spellCheck={false}
          value={text}
          rows={Math.max(16, lines.length + 1)}
          onChange={(e) => setText(e.target.value)}
        />
      </div>
      {error && (
        <p role="alert" className="error" data-testid="spec-error">
          {error.line != null ? `line ${error.line}: ` : ""}
          {error.message}
        </p>
      )}
      <button type="button" className="primary" disabled={busy} onClick={submit}>
        {busy ? "Submitting…" : "Submit"}
      </button>
    </section>
  );
}
