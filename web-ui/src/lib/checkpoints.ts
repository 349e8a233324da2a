/** What a checkpoint row of the console says beside its figures, and whether it can be downloaded. */
export interface CheckpointRowState {
  /** "live", "abandoned" (a rollback threw its branch away) or "deleted" (retention removed it). */
  branch: "live" | "abandoned" | "deleted";
  label: string;
  downloadable: boolean;
}

export function checkpointRowState(c: { state?: string; onLiveBranch?: boolean }): CheckpointRowState {
  if (c.state === "DELETED") {
    return { branch: "deleted", label: "deleted by retention", downloadable: false };
  }
  if (c.onLiveBranch === false) {
    return { branch: "abandoned", label: "abandoned by a rollback", downloadable: true };
  }
  return { branch: "live", label: "", downloadable: true };
}
