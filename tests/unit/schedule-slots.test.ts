import { describe, expect, it } from "vitest";
import { backfillSlots, latestSlot, runInterval } from "../../app/schedules/slots";
import type { ScheduleExportRequest } from "../../db/schema";

const BERLIN = "Europe/Berlin";
const daily0230 = { kind: "daily", time: "02:30" } as const;
const everyMinute = { kind: "cron", expression: "* * * * *" } as const;
const request = (dateRange: ScheduleExportRequest["dateRange"]): ScheduleExportRequest => ({ scope: { type: "tenant" }, dataTypes: ["hsi_records"], format: "csv", dateRange });
const iso = (d: Date | null) => d?.toISOString() ?? null;

describe("latestSlot", () => {
  it("is the last slot at or before now, however many were missed", () => {
    expect(iso(latestSlot(everyMinute, "UTC", new Date("2026-01-01T00:05:00Z")))).toBe("2026-01-01T00:05:00.000Z");
    expect(iso(latestSlot(everyMinute, "UTC", new Date("2026-01-01T00:05:59.999Z")))).toBe("2026-01-01T00:05:00.000Z");
    expect(iso(latestSlot(daily0230, BERLIN, new Date("2026-01-20T12:00:00Z")))).toBe("2026-01-20T01:30:00.000Z");
  });

  it("counts the autumn's repeated 02:30 once: after the second one, the latest slot is still the first", () => {
    // 02:30 CEST is 00:30Z; 02:30 CET, an hour later, is not run again.
    expect(iso(latestSlot(daily0230, BERLIN, new Date("2026-10-25T01:45:00Z")))).toBe("2026-10-25T00:30:00.000Z");
  });

  it("runs the spring's skipped 02:30 just after the gap (03:00 CEST)", () => {
    expect(iso(latestSlot(daily0230, BERLIN, new Date("2026-03-29T06:00:00Z")))).toBe("2026-03-29T01:00:00.000Z");
  });
});

describe("runInterval", () => {
  it("is the cadence period ending at the slot, shorter and longer across clock changes", () => {
    const hours = (slot: string) => {
      const { from, to } = runInterval(request({ relative: "interval" }), daily0230, BERLIN, new Date(slot));
      return (to.getTime() - from!.getTime()) / 3_600_000;
    };
    expect(hours("2026-03-28T01:30:00Z")).toBe(24);
    // 28 March 02:30 CET to 29 March 03:00 CEST, then to 30 March 02:30 CEST: the 23-hour day shared by two periods.
    expect(hours("2026-03-29T01:00:00Z")).toBe(23.5);
    expect(hours("2026-03-30T00:30:00Z")).toBe(23.5);
    expect(hours("2026-10-25T00:30:00Z")).toBe(24);
    expect(hours("2026-10-26T01:30:00Z")).toBe(25);
  });

  it("counts a preset back from the slot, and all_time has no start", () => {
    const slot = new Date("2026-05-10T07:00:00Z");
    expect(runInterval(request({ preset: "last_7_days" }), daily0230, BERLIN, slot)).toEqual({ from: new Date("2026-05-03T07:00:00Z"), to: slot });
    expect(runInterval(request({ preset: "all_time" }), daily0230, BERLIN, slot)).toEqual({ from: null, to: slot });
  });
});

describe("backfillSlots", () => {
  it("has one slot per period ending in (from, to]", () => {
    const slots = backfillSlots({ kind: "daily", time: "00:00" }, "UTC", new Date("2026-01-01T00:00:00Z"), new Date("2026-01-04T00:00:00Z"), 366);
    expect(slots.map(iso)).toEqual(["2026-01-02T00:00:00.000Z", "2026-01-03T00:00:00.000Z", "2026-01-04T00:00:00.000Z"]);
  });
});
