import { useEffect, useState } from "react";

type Component = { status: string; details?: Record<string, unknown> };
type Health = { status: string; components?: Record<string, Component> };

const colours: Record<string, string> = {
  UP: "#1a7f37",
  DOWN: "#cf222e",
  OUT_OF_SERVICE: "#9a6700",
  UNKNOWN: "#57606a",
};

/** Until the console lands, the start page shows the platform's health, component by component. */
export function App() {
  const [health, setHealth] = useState<Health | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let stopped = false;
    const load = async () => {
      try {
        const res = await fetch("/actuator/health");
        const body = (await res.json()) as Health;
        if (!stopped) {
          setHealth(body);
          setError(null);
        }
      } catch (e) {
        if (!stopped) setError(String(e));
      }
    };
    load();
    const timer = setInterval(load, 5000);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, []);

  return (
    <main style={{ fontFamily: "system-ui, sans-serif", maxWidth: 720, margin: "3rem auto", padding: "0 1rem" }}>
      <h1>Anneal</h1>
      <p>Workflow-orchestrated training for language models: pre-training, SFT, reward model, RLHF.</p>
      <h2>Platform health</h2>
      {error && <p role="alert">Cannot reach the API: {error}</p>}
      {!health && !error && <p>Loading…</p>}
      {health && (
        <table>
          <tbody>
            <tr>
              <th style={{ textAlign: "left", paddingRight: "2rem" }}>overall</th>
              <td style={{ color: colours[health.status] ?? "inherit" }}>{health.status}</td>
            </tr>
            {Object.entries(health.components ?? {}).map(([name, c]) => (
              <tr key={name}>
                <th style={{ textAlign: "left", paddingRight: "2rem" }}>{name}</th>
                <td style={{ color: colours[c.status] ?? "inherit" }}>{c.status}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <p>
        API documentation and the full console arrive with their issues; the REST API lives under{" "}
        <code>/api/v1</code>, metrics at <code>/actuator/prometheus</code>.
      </p>
    </main>
  );
}
