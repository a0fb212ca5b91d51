import { renderToString } from "react-dom/server";
import { createElement } from "react";
import { describe, expect, it } from "vitest";
import { ExportProgress } from "../../app/exports/ExportStatus";
import { estimatedSecondsLeft, timeLeftLabel } from "../../app/exports/time-left";

const now = new Date("2026-06-01T12:00:00Z");
const ago = (ms: number) => new Date(now.getTime() - ms);

describe("estimated time left", () => {
  it("extrapolates the rate since the export started", () => {
    expect(estimatedSecondsLeft({ status: "running", started_at: ago(30_000), rows_done: "25000", rows_expected: "100000" }, now)).toBe(90);
    expect(estimatedSecondsLeft({ status: "running", started_at: ago(10_000), rows_done: 100, rows_expected: 100 }, now)).toBe(0);
  });

  it("says nothing before five seconds, before any record is done, without a total, or once the export is not running", () => {
    expect(estimatedSecondsLeft({ status: "running", started_at: ago(4_000), rows_done: 500, rows_expected: 1000 }, now)).toBeNull();
    expect(estimatedSecondsLeft({ status: "running", started_at: ago(60_000), rows_done: 0, rows_expected: 1000 }, now)).toBeNull();
    expect(estimatedSecondsLeft({ status: "running", started_at: ago(60_000), rows_done: 10, rows_expected: null }, now)).toBeNull();
    expect(estimatedSecondsLeft({ status: "running", started_at: null, rows_done: 10, rows_expected: 100 }, now)).toBeNull();
    expect(estimatedSecondsLeft({ status: "done", started_at: ago(60_000), rows_done: 10, rows_expected: 100 }, now)).toBeNull();
  });

  it.each([
    [3, "a few seconds left"],
    [24, "about 20 seconds left"],
    [56, "about a minute left"],
    [130, "about 2 minutes left"],
    [85 * 60, "about 85 minutes left"],
    [100 * 60, "about 2 hours left"],
  ])("%d s reads %s", (seconds, label) => {
    expect(timeLeftLabel(seconds)).toBe(label);
  });

  it("is text beside the bar and part of the bar's accessible value", () => {
    const html = renderToString(createElement(ExportProgress, { done: 1234, expected: 5000, secondsLeft: 130 }));
    expect(html).toContain("24% · 1,234 of 5,000 rows");
    expect(html).toContain("about 2 minutes left");
    expect(html).toMatch(/aria-valuetext="24%, 1,234 of 5,000 rows, about 2 minutes left"/);
    expect(renderToString(createElement(ExportProgress, { done: 1234, expected: 5000 }))).not.toContain("left");
  });
});
