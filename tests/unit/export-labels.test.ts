import { describe, expect, it } from "vitest";
import { scopeLabel } from "../../app/exports/export-labels";

const projects = [
  { id: "p1", name: "Cardio Study", apps: [{ id: "a1", name: "Watch" }, { id: "a2", name: "Ring" }] },
  { id: "p2", name: "Sleep Lab", apps: [] },
];

describe("scope in words", () => {
  it.each([
    [{ type: "tenant" }, "Tenant Production"],
    [{ type: "organization" }, "Entire organization"],
    [{ type: "project", projectId: "p1" }, "Project Cardio Study"],
    [{ type: "app", projectId: "p1", appIds: ["a1", "a2"] }, "Apps Watch, Ring"],
    [{ type: "app", projectId: "p1", appIds: ["a2"] }, "App Ring"],
    [{ type: "project", projectId: "gone" }, "Project (deleted)"],
    [{ type: "study", studyId: "s1", cohortId: "c1" }, "Study Sleep-2025, Cohort A"],
    [{ type: "study", studyId: "s1", cohortId: "c1", participantId: "x1" }, "Study Sleep-2025, Cohort A, participant P-0042"],
  ] as const)("%j", (scope, label) => {
    const names = { s1: "Sleep-2025", c1: "Cohort A", x1: "P-0042" };
    expect(scopeLabel(scope as never, "Production", projects, names)).toBe(label);
  });
});
