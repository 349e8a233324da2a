import { useEffect, useState } from "react";
import { api } from "./api/client";
import { logout, takeTokenFromUrl, token } from "./auth";
import { Compare } from "./pages/Compare";
import { Datasets } from "./pages/Datasets";
import { Login } from "./pages/Login";
import { Models } from "./pages/Models";
import { NewPipeline } from "./pages/NewPipeline";
import { Pipeline } from "./pages/Pipeline";
import { Pipelines } from "./pages/Pipelines";
import { StagePage } from "./pages/Stage";
import { Team } from "./pages/Team";
import { useRoute } from "./router";

takeTokenFromUrl();

const NAV = [
  ["pipelines", "Pipelines"],
  ["models", "Models"],
  ["datasets", "Datasets"],
  ["team", "Team"],
] as const;

/** The Anneal console: the team's pipelines, live stages, models, datasets and team. */
export function App() {
  const route = useRoute();
  const [me, setMe] = useState<{ team?: string } | null>(null);
  const [refused, setRefused] = useState(false);

  useEffect(() => {
    if (!token()) return;
    api.GET("/api/v1/me", {}).then(({ data, response }) => {
      if (response.status === 401) setRefused(true);
      else if (data) setMe(data);
    });
  }, []);

  if (!token() || refused) return <Login refused={refused} />;
  const [top, id, sub, stage] = route.path;
  let page;
  if (!top || top === "pipelines") {
    page = !id ? <Pipelines /> : sub === "stages" && stage ? <StagePage id={id} stage={stage} /> : <Pipeline id={id} />;
  } else if (top === "new") page = <NewPipeline />;
  else if (top === "compare") page = <Compare ids={(route.query.get("ids") ?? "").split(",").filter(Boolean)} />;
  else if (top === "models") page = <Models />;
  else if (top === "datasets") page = <Datasets />;
  else if (top === "team") page = <Team />;
  else page = <p className="error">No page here: {window.location.hash}</p>;

  return (
    <>
      <header className="top">
        <a className="brand" href="#/pipelines">
          Anneal
        </a>
        <nav aria-label="main">
          {NAV.map(([k, label]) => (
            <a key={k} href={`#/${k}`} aria-current={(top ?? "pipelines") === k ? "page" : undefined}>
              {label}
            </a>
          ))}
        </nav>
        <span className="who">
          {me?.team && <>team {me.team} · </>}
          <button
            type="button"
            className="link"
            onClick={() => {
              logout();
              window.location.reload();
            }}
          >
            log out
          </button>
        </span>
      </header>
      <main>{page}</main>
    </>
  );
}
