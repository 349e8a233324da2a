import type { Stage } from "../api/client";
import { href } from "../router";
import { StatusChip } from "./StatusChip";

/**
 * The pipeline's stages as a graph, pretrain → SFT → RM → RLHF, each with its state, progress,
 * attempts and rollbacks; a stage links to its page. The reward stage feeds RLHF from the side.
 */
export function StageGraph({
  pipelineId,
  stages,
  spec,
}: {
  pipelineId: string;
  stages: Stage[];
  /** the pipeline's spec: each stage's `from` and an RLHF stage's `reward` */
  spec?: { stages?: { name?: string; kind?: string; from?: string; reward?: string }[] };
}) {
  const specOf = (s: Stage, i: number) =>
    spec?.stages?.find((x) => (x.name ?? x.kind) === s.name) ?? spec?.stages?.[i];
  return (
    <ol className="stage-graph" aria-label="stages">
      {stages.map((s, i) => {
        const pct = s.totalSteps ? Math.min(100, Math.round(((s.currentStep ?? 0) * 100) / s.totalSteps)) : 0;
        return (
          <li key={s.name} className={`stage-node stage-${(s.status ?? "").toLowerCase()}`} data-testid={`stage-${s.name}`}>
            {i > 0 && <span className="arrow" aria-hidden="true">→</span>}
            <a href={href("pipelines", pipelineId, "stages", s.name ?? "")}>
              <strong>{s.name}</strong> <small>{s.kind}</small>
              <StatusChip status={s.status} />
              <div className="progress" role="progressbar" aria-valuenow={pct} aria-valuemin={0} aria-valuemax={100}>
                <div style={{ width: `${pct}%` }} />
              </div>
              {(() => {
                const sp = specOf(s, i);
                const prev = i > 0 ? stages[i - 1].name : undefined;
                const from = sp?.from && sp.from !== prev ? `from ${sp.from}` : null;
                const reward = sp?.reward ? `reward model: ${sp.reward}` : null;
                return from || reward ? (
                  <small className="inputs">{[from, reward].filter(Boolean).join(" · ")}</small>
                ) : null;
              })()}
              <small>
                step {s.currentStep}/{s.totalSteps} · {s.attempts?.length ?? 0} attempt
                {(s.attempts?.length ?? 0) === 1 ? "" : "s"}
                {s.rollbacks ? ` · ${s.rollbacks} rollback${s.rollbacks === 1 ? "" : "s"}` : ""}
                {s.restarts ? ` · ${s.restarts} restart${s.restarts === 1 ? "" : "s"}` : ""}
              </small>
            </a>
          </li>
        );
      })}
    </ol>
  );
}
