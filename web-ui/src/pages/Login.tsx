import { useState } from "react";
import { looksLikeToken, setToken } from "../auth";

/** Asks for an API token when the console has none (or the server refused the one it had). */
export function Login({ refused }: { refused?: boolean }) {
  const [value, setValue] = useState("");
  const ok = looksLikeToken(value);
  return (
    <section className="login">
      <h1>Anneal</h1>
      <p>
        The console reads the API with a team's token. <code>./anneal serve</code> and <code>./anneal demo</code> print a
        console link that carries it; otherwise paste a token (<code>anl_…</code>).
      </p>
      {refused && (
        <p role="alert" className="error">
          The server refused the saved token (revoked or expired?).
        </p>
      )}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (ok) {
            setToken(value);
            window.location.reload();
          }
        }}
      >
        <label>
          API token <input aria-label="API token" value={value} onChange={(e) => setValue(e.target.value)} autoFocus />
        </label>
        <button type="submit" className="primary" disabled={!ok}>
          Open the console
        </button>
      </form>
    </section>
  );
}
