import { describe, expect, it } from "vitest";
import { smooth } from "./smooth";
import { generationShare, layout, marks, overlay } from "./series";
import { lineOf } from "./yamlLine";
import { parse } from "../router";
import type { Series } from "../api/client";

describe("smooth", () => {
  it("is the identity at weight 0 and debiased at the start", () => {
    expect(smooth([1, 2, 3], 0)).toEqual([1, 2, 3]);
    const s = smooth([10, 10, 10], 0.9);
    // without debiasing the first value would be 1.0
    s.forEach((v) => expect(v).toBeCloseTo(10, 10));
  });
  it("keeps gaps as gaps", () => {
    const s = smooth([1, null, 3, NaN, 5], 0.5);
    expect(s[1]).toBeNull();
    expect(Number.isNaN(s[3] as number)).toBe(true);
    expect(s[4]).toBeGreaterThan(3);
  });
});

const series: Series = {
  name: "loss",
  bucketSteps: 1,
  points: 7,
  data: [
    { attempt: 1, step: 0, time: 100, value: 4, min: 4, max: 4, count: 1 },
    { attempt: 1, step: 1, time: 101, value: 3, min: 3, max: 3, count: 1 },
    { attempt: 1, step: 2, time: 102, value: 9, min: 9, max: 9, count: 1 },
    { attempt: 1, step: 3, time: 103, value: 12, min: 12, max: 12, count: 1 },
    { attempt: 2, step: 1, time: 110, value: 3, min: 3, max: 3, count: 1 },
    { attempt: 2, step: 2, time: 111, value: 2.5, min: 2.5, max: 2.5, count: 1 },
    { attempt: 2, step: 3, time: 112, value: 2.2, min: 2.2, max: 2.2, count: 1 },
  ],
};

describe("layout", () => {
  it("gives each attempt its own line on a shared step axis", () => {
    const d = layout(series, "step", 0);
    expect(d.x).toEqual([0, 1, 2, 3]);
    expect(d.lines.map((l) => l.attempt)).toEqual([1, 2]);
    expect(d.lines[0].values).toEqual([4, 3, 9, 12]);
    expect(d.lines[1].values).toEqual([null, 3, 2.5, 2.2]);
  });
  it("puts wall time from the first point on the x axis", () => {
    const d = layout(series, "time", 0);
    expect(d.x[0]).toBe(0);
    expect(d.x[d.x.length - 1]).toBe(12);
  });
  it("overlays runs by their final path", () => {
    const d = overlay([series, series], "step", 0);
    expect(d.lines).toHaveLength(2);
    expect(d.lines[0].values).toEqual([4, 3, 2.5, 2.2]);
  });
});

describe("marks", () => {
  it("turns rollbacks and attempts into spikes, resumes and skipped windows", () => {
    const m = marks(
      [{ attempt: 1, step: 3, kind: "LOSS_SPIKE", message: "loss 12 > 5 x ema" }],
      [
        { number: 1, cause: "first", skipWindows: [] },
        { number: 2, cause: "rollback", resumeStep: 1, skipWindows: [{ fromBatch: 1, toBatch: 4 }] },
      ],
    );
    expect(m.spikes).toEqual([{ step: 3, attempt: 1, kind: "LOSS_SPIKE", message: "loss 12 > 5 x ema" }]);
    expect(m.resumes).toEqual([{ step: 1, attempt: 2, cause: "rollback" }]);
    expect(m.skipped).toEqual([{ from: 1, to: 4, attempt: 2 }]);
  });
});

describe("lineOf", () => {
  const yaml = "apiVersion: anneal.dev/v1\nkind: Pipeline\nstages:\n  - kind: pretrain\n    hyperparameters:\n      lr: -1\n";
  it("finds a field path's line", () => {
    expect(lineOf(yaml, "stages[0].hyperparameters.lr")).toBe(6);
    expect(lineOf(yaml, "kind")).toBe(2);
  });
  it("falls back to the nearest parent", () => {
    expect(lineOf(yaml, "stages[0].hyperparameters.steps")).toBe(5);
  });
  it("reports where YAML does not parse", () => {
    expect(lineOf("a: [\nb: 1\n", "a")).not.toBeNull();
  });
});

describe("router", () => {
  it("reads pages and queries from the fragment", () => {
    const r = parse("#/pipelines/abc/stages/sft?x=1");
    expect(r.path).toEqual(["pipelines", "abc", "stages", "sft"]);
    expect(r.query.get("x")).toBe("1");
  });
});

describe("generationShare", () => {
  it("is generation's part of each PPO step", () => {
    const pt = (step: number, value: number) => ({ attempt: 1, step, time: step, value, min: value, max: value, count: 1 });
    const share = generationShare([
      { name: "generate_ms", data: [pt(0, 40), pt(1, 30)] },
      { name: "score_ms", data: [pt(0, 10), pt(1, 10)] },
      { name: "train_ms", data: [pt(0, 50), pt(1, 60)] },
    ]);
    expect(share?.data?.map((p) => p.value)).toEqual([0.4, 0.3]);
    expect(generationShare([{ name: "loss", data: [] }])).toBeNull();
  });
});

describe("checkpoint rows", () => {
  it("say which checkpoints a rollback abandoned and which retention deleted", async () => {
    const { checkpointRowState } = await import("./checkpoints");
    expect(checkpointRowState({ state: "COMMITTED", onLiveBranch: true })).toEqual({
      branch: "live",
      label: "",
      downloadable: true,
    });
    expect(checkpointRowState({ state: "COMMITTED", onLiveBranch: false }).label).toBe("abandoned by a rollback");
    const gone = checkpointRowState({ state: "DELETED", onLiveBranch: false });
    expect(gone.branch).toBe("deleted");
    expect(gone.downloadable).toBe(false);
  });
});
