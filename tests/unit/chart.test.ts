import { describe, expect, it } from "vitest";
import { formatDay, formatValue, linearScale, niceStep, niceTicks, timeTicks } from "../../app/analytics/chart";

describe("chart arithmetic", () => {
  it("steps on 1, 2, 2.5 and 5 times a power of ten", () => {
    expect(niceStep(100, 5)).toBe(20);
    expect(niceStep(10, 4)).toBe(2.5);
    expect(niceStep(0.9, 5)).toBeCloseTo(0.2);
    expect(niceStep(43_000, 5)).toBe(10_000);
    expect(niceStep(0, 5)).toBe(1);
  });

  it("ticks cover the data on round numbers", () => {
    expect(niceTicks(3, 97)).toEqual([0, 20, 40, 60, 80, 100]);
    expect(niceTicks(41_800, 74_300)).toEqual([40_000, 50_000, 60_000, 70_000, 80_000]);
    expect(niceTicks(0.1, 0.3, 2)).toEqual([0.1, 0.2, 0.3]);
    expect(niceTicks(-5, 5, 2)).toEqual([-5, 0, 5]);
  });

  it("a flat series gets a band around its value, and an empty one a unit band", () => {
    const ticks = niceTicks(50, 50);
    expect(ticks[0]).toBeLessThan(50);
    expect(ticks.at(-1)).toBeGreaterThan(50);
    expect(niceTicks(0, 0, 2)).toEqual([-1, 0, 1]);
    expect(niceTicks(Infinity, -Infinity)).toEqual([0, 1]);
  });

  it("maps values linearly, inverted for screen y", () => {
    const y = linearScale([0, 100], [200, 0]);
    expect(y(0)).toBe(200);
    expect(y(25)).toBe(150);
    expect(y(100)).toBe(0);
    expect(linearScale([5, 5], [0, 10])(5)).toBe(5);
  });

  it("spreads time ticks evenly including both ends", () => {
    expect(timeTicks(0, 1000, 5)).toEqual([0, 250, 500, 750, 1000]);
    expect(timeTicks(10, 10)).toEqual([10]);
  });

  it("labels values compactly and dates in UTC", () => {
    expect(formatValue(1250)).toBe("1,250");
    expect(formatValue(42_512.5)).toBe("42.5K");
    expect(formatValue(3.14159)).toBe("3.14");
    expect(formatDay(Date.parse("2026-03-04T23:30:00Z"), 30)).toBe("Mar 4");
    expect(formatDay(Date.parse("2026-03-04T00:00:00Z"), 365)).toBe("Mar 2026");
  });
});
