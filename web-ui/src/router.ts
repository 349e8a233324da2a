import { useEffect, useState } from "react";

/** The console's pages live in the URL's fragment: #/pipelines/<id>/stages/<name>?x=y. */
export type Route = { path: string[]; query: URLSearchParams };

export function parse(hash: string): Route {
  const raw = hash.replace(/^#\/?/, "");
  const [p, q] = raw.split("?");
  return {
    path: p ? p.split("/").filter(Boolean).map(decodeURIComponent) : [],
    query: new URLSearchParams(q ?? ""),
  };
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parse(window.location.hash));
  useEffect(() => {
    const on = () => setRoute(parse(window.location.hash));
    window.addEventListener("hashchange", on);
    return () => window.removeEventListener("hashchange", on);
  }, []);
  return route;
}

export function href(...parts: (string | number)[]): string {
  return "#/" + parts.map((p) => encodeURIComponent(String(p))).join("/");
}
