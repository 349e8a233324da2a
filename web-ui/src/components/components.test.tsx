import { afterEach, describe, expect, it } from "vitest";
import { cleanup, render, screen } from "@testing-library/react";
import { ListHead } from "./ListHead";
import { StageGraph } from "./StageGraph";
import { StatusChip } from "./StatusChip";
import { takeTokenFromUrl, token } from "../auth";

afterEach(cleanup);

describe("StageGraph", () => {
  it("shows every stage in order with state, progress, attempts and rollbacks, linking to it", () => {
    render(
      <StageGraph
        pipelineId="p1"
        stages={[
          { name: "pretrain", kind: "pretrain", status: "SUCCEEDED", currentStep: 600, totalSteps: 600, rollbacks: 1, restarts: 0, attempts: [{ number: 1 }, { number: 2 }] },
          { name: "sft", kind: "sft", status: "RUNNING", currentStep: 50, totalSteps: 100, rollbacks: 0, restarts: 0, attempts: [{ number: 1 }] },
          { name: "reward", kind: "reward", status: "PENDING", currentStep: 0, totalSteps: 800, rollbacks: 0, restarts: 0, attempts: [] },
        ]}
      />,
    );
    const items = screen.getAllByRole("listitem");
    expect(items.map((i) => i.querySelector("strong")?.textContent)).toEqual(["pretrain", "sft", "reward"]);
    expect(items[0].textContent).toContain("2 attempts");
    expect(items[0].textContent).toContain("1 rollback");
    expect(screen.getAllByRole("progressbar")[1].getAttribute("aria-valuenow")).toBe("50");
    expect(items[1].querySelector("a")?.getAttribute("href")).toBe("#/pipelines/p1/stages/sft");
  });
});

describe("StageGraph inputs", () => {
  it("says which reward model feeds RLHF and a start that is not the stage before", () => {
    render(
      <StageGraph
        pipelineId="p1"
        stages={[
          { name: "sft", kind: "sft", status: "SUCCEEDED", currentStep: 1, totalSteps: 1, attempts: [] },
          { name: "reward", kind: "reward", status: "SUCCEEDED", currentStep: 1, totalSteps: 1, attempts: [] },
          { name: "rlhf", kind: "rlhf", status: "RUNNING", currentStep: 0, totalSteps: 4, attempts: [] },
        ]}
        spec={{
          stages: [
            { kind: "sft", from: "model:base" },
            { kind: "reward", from: "sft" },
            { kind: "rlhf", from: "sft", reward: "reward" },
          ],
        }}
      />,
    );
    const items = screen.getAllByRole("listitem");
    expect(items[0].textContent).toContain("from model:base");
    expect(items[1].textContent).not.toContain("from sft"); // the stage right before
    expect(items[2].textContent).toContain("from sft · reward model: reward");
  });
});

describe("StatusChip", () => {
  it("writes the status, not only a colour", () => {
    render(<StatusChip status="WAITING_APPROVAL" />);
    expect(screen.getByText("waiting approval")).toBeTruthy();
  });
});

describe("token links", () => {
  it("moves a token from the fragment to storage and out of the address", () => {
    const t = "anl_" + "a".repeat(38);
    window.history.replaceState(null, "", `/#/pipelines/p1?token=${t}`);
    takeTokenFromUrl();
    expect(token()).toBe(t);
    expect(window.location.hash).toBe("#/pipelines/p1");
  });
});

describe("ListHead", () => {
  it("names each column, leaves a button column blank and labels a checkbox column for readers", () => {
    render(
      <table>
        <ListHead columns={[{ aria: "select" }, "Name", "Status", ""]} />
      </table>,
    );
    const heads = screen.getAllByRole("columnheader");
    expect(heads.map((h) => h.textContent)).toEqual(["", "Name", "Status", ""]);
    expect(heads[0].getAttribute("aria-label")).toBe("select");
    expect(heads[3].hasAttribute("aria-label")).toBe(false);
  });
});
