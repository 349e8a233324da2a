import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "./schema";
import { token } from "../auth";

export type Schemas = components["schemas"];
export type Brief = Schemas["Brief"];
export type Detail = Schemas["Detail"];
export type Stage = Schemas["Stage"];
export type Attempt = Schemas["Attempt"];
export type Rollback = Schemas["Rollback"];
export type Series = Schemas["Series"];
export type Point = Schemas["Point"];
export type Event = Schemas["Event"];
export type Checkpoint = Schemas["Checkpoint"];
export type Model = Schemas["Model"];
export type Dataset = Schemas["Dataset"];

/** An RFC 9457 problem the API answered with. */
export class Problem extends Error {
  constructor(
    public status: number,
    public detail: string,
    public field?: string,
    public body?: Record<string, unknown>,
  ) {
    super(detail);
  }
}

const auth: Middleware = {
  onRequest({ request }) {
    const t = token();
    if (t) request.headers.set("Authorization", `Bearer ${t}`);
    return request;
  },
};

export const api = createClient<paths>({ baseUrl: "" });
api.use(auth);

/** The data of a call, or a thrown {@link Problem}. */
export async function call<T>(
  p: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  const { data, error, response } = await p;
  if (!response.ok || data === undefined) {
    const e = (error ?? {}) as Record<string, unknown>;
    throw new Problem(
      response.status,
      typeof e.detail === "string" ? e.detail : `HTTP ${response.status}`,
      typeof e.field === "string" ? e.field : undefined,
      e,
    );
  }
  return data;
}

/** A call that sends a raw body (YAML specs, JSONL files) and returns the JSON answer. */
export async function send<T>(method: string, path: string, body: BodyInit, type: string): Promise<T> {
  const headers: Record<string, string> = { "Content-Type": type };
  const t = token();
  if (t) headers.Authorization = `Bearer ${t}`;
  const r = await fetch(path, { method, body, headers });
  const text = await r.text();
  const json = text ? JSON.parse(text) : {};
  if (!r.ok) throw new Problem(r.status, json.detail ?? `HTTP ${r.status}`, json.field, json);
  return json as T;
}
