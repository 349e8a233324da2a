import { useState } from "react";
import { api, call } from "../api/client";
import { ErrorBox } from "../components/ErrorBox";
import { age } from "../lib/format";
import { useLoad } from "../lib/useLoad";
import { ListHead } from "../components/ListHead";

/** The caller's team: quota usage, members, API tokens (made and revoked here). */
export function Team() {
  const { data: me } = useLoad(() => call(api.GET("/api/v1/me", {})), []);
  const team = me?.team;
  const admin = me?.scopes?.includes("admin") ?? false;
  const { data: usage } = useLoad(
    () => (team ? call(api.GET("/api/v1/teams/{team}/usage", { params: { path: { team } } })) : Promise.resolve(null)),
    [team],
    10000,
  );
  const { data: members, reload: reloadMembers } = useLoad(
    () => (team ? call(api.GET("/api/v1/teams/{team}/members", { params: { path: { team } } })) : Promise.resolve(null)),
    [team],
  );
  const { data: tokens, reload: reloadTokens } = useLoad(
    () =>
      team && admin ? call(api.GET("/api/v1/teams/{team}/tokens", { params: { path: { team } } })) : Promise.resolve(null),
    [team, admin],
  );
  const [tokenName, setTokenName] = useState("");
  const [scope, setScope] = useState("read");
  const [made, setMade] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [email, setEmail] = useState("");

  if (!team) return null;
  const makeToken = async () => {
    try {
      const t = await call(
        api.POST("/api/v1/teams/{team}/tokens", { params: { path: { team } }, body: { name: tokenName, scopes: [scope] } }),
      );
      setMade(t.token ?? null);
      setTokenName("");
      reloadTokens();
    } catch (e) {
      setError(e);
    }
  };
  const revoke = async (id: string) => {
    try {
      await call(api.DELETE("/api/v1/teams/{team}/tokens/{id}", { params: { path: { team, id } } }));
      reloadTokens();
    } catch (e) {
      setError(e);
    }
  };
  const addMember = async () => {
    try {
      await call(api.POST("/api/v1/teams/{team}/members", { params: { path: { team } }, body: { email } }));
      setEmail("");
      reloadMembers();
    } catch (e) {
      setError(e);
    }
  };
  return (
    <section>
      <header className="page-head">
        <h1>Team {team}</h1>
      </header>
      <ErrorBox error={error} />
      {usage && (
        <p>
          {usage.activePipelines} of {usage.maxConcurrentPipelines} concurrent pipelines in use ·{" "}
          {usage.gpuHoursUsed?.toFixed(2)} GPU-hours used
          {usage.gpuHoursQuota != null ? ` of ${usage.gpuHoursQuota}` : " (no GPU-hour quota)"}
        </p>
      )}
      <h2>Members</h2>
      <ul>
        {members?.members?.map((m) => (
          <li key={m.email}>
            {m.email} <span className="muted">{m.role}</span>
          </li>
        ))}
      </ul>
      {admin && (
        <form
          className="toolbar"
          onSubmit={(e) => {
            e.preventDefault();
            addMember();
          }}
        >
          <input type="email" aria-label="member e-mail" value={email} onChange={(e) => setEmail(e.target.value)} placeholder="e-mail" />
          <button type="submit">Add member</button>
        </form>
      )}
      {admin && (
        <>
          <h2>API tokens</h2>
          <table className="list">
            <ListHead columns={["Name", "Token", "Scopes", "Last used", ""]} />
            <tbody>
              {tokens?.tokens?.map((t) => (
                <tr key={t.id} className={t.revokedAt ? "muted" : ""}>
                  <td>{t.name}</td>
                  <td className="mono">{t.prefix}…</td>
                  <td>{t.scopes?.join(", ")}</td>
                  <td>{t.lastUsedAt ? age(t.lastUsedAt) : "never"}</td>
                  <td>
                    {t.revokedAt ? (
                      "revoked"
                    ) : (
                      <button type="button" className="danger" onClick={() => revoke(t.id!)}>
                        Revoke
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <form
            className="toolbar"
            onSubmit={(e) => {
              e.preventDefault();
              makeToken();
            }}
          >
            <input aria-label="token name" value={tokenName} onChange={(e) => setTokenName(e.target.value)} placeholder="name, e.g. ci" />
            <select aria-label="scope" value={scope} onChange={(e) => setScope(e.target.value)}>
              <option>read</option>
              <option>submit</option>
              <option>admin</option>
            </select>
            <button type="submit" disabled={!tokenName}>
              Make token
            </button>
          </form>
          {made && (
            <p className="ok">
              Copy it now, it is not shown again: <code data-testid="new-token">{made}</code>
            </p>
          )}
        </>
      )}
    </section>
  );
}
