import { token } from "../auth";

export type SseEvent = { id?: string; event: string; data: string };

/**
 * Follows a Server-Sent Events stream with the API token (EventSource cannot send headers, so this
 * reads the stream with fetch), reconnecting with Last-Event-ID until `end` or `stop()`.
 */
export function follow(path: string, onEvent: (e: SseEvent) => void, after?: number): () => void {
  const ctrl = new AbortController();
  let last: string | undefined = after != null ? String(after) : undefined;
  let stopped = false;
  const run = async () => {
    for (let failures = 0; !stopped && failures < 20; ) {
      try {
        const headers: Record<string, string> = { Accept: "text/event-stream" };
        const t = token();
        if (t) headers.Authorization = `Bearer ${t}`;
        if (last) headers["Last-Event-ID"] = last;
        const r = await fetch(path, { headers, signal: ctrl.signal });
        if (!r.ok || !r.body) throw new Error(`HTTP ${r.status}`);
        const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
        let buf = "";
        let ev: SseEvent = { event: "message", data: "" };
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += value;
          let nl;
          while ((nl = buf.indexOf("\n")) >= 0) {
            const line = buf.slice(0, nl).replace(/\r$/, "");
            buf = buf.slice(nl + 1);
            if (line === "") {
              if (ev.data || ev.event !== "message") {
                if (ev.id) last = ev.id;
                onEvent(ev);
                if (ev.event === "end") return;
              }
              ev = { event: "message", data: "" };
            } else if (line.startsWith("id:")) ev.id = line.slice(3).trim();
            else if (line.startsWith("event:")) ev.event = line.slice(6).trim();
            else if (line.startsWith("data:")) ev.data += (ev.data ? "\n" : "") + line.slice(5).trimStart();
          }
        }
      } catch (e) {
        if (stopped) return;
        failures++;
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  };
  run();
  return () => {
    stopped = true;
    ctrl.abort();
  };
}
