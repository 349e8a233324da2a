const COLOURS: Record<string, string> = {
  SUCCEEDED: "ok",
  RUNNING: "run",
  PENDING: "wait",
  PAUSED: "wait",
  WAITING_APPROVAL: "warn",
  ROLLING_BACK: "warn",
  RESTARTING: "warn",
  FAILED: "bad",
  CANCELLED: "off",
  SKIPPED: "off",
};

/** A status as a coloured chip; the text is always there, so colour is never the only cue. */
export function StatusChip({ status, label }: { status?: string; label?: string }) {
  const s = status ?? "UNKNOWN";
  return (
    <span className={`chip chip-${COLOURS[s] ?? "off"}`} title={s}>
      {label ? `${label}: ` : ""}
      {s.toLowerCase().replace("_", " ")}
    </span>
  );
}
