import { describe, expect, it } from "vitest";
import { parseRange } from "../../app/exports/download.server";

describe("HTTP Range", () => {
  it.each([
    ["bytes=0-99", { start: 0, end: 99 }],
    ["bytes=100-", { start: 100, end: 999 }],
    ["bytes=-100", { start: 900, end: 999 }],
    ["bytes=900-5000", { start: 900, end: 999 }],
    ["bytes=-5000", { start: 0, end: 999 }],
    ["bytes=1000-", "unsatisfiable"],
    ["bytes=500-100", "unsatisfiable"],
    ["bytes=0-1,5-9", null],
    ["items=0-1", null],
    ["bytes=-", null],
    [null, null],
  ])("%s of 1000 bytes", (header, expected) => {
    expect(parseRange(header, 1000)).toEqual(expected);
  });
});
