import { describe, expect, it } from "vitest";
import { ordinal, queueLabel } from "../../app/exports/queue-label";

describe("queue labels", () => {
  it("say the place in line in English ordinals", () => {
    expect([1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 101, 111, 112].map(ordinal)).toEqual([
      "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "23rd", "101st", "111th", "112th",
    ]);
    expect(queueLabel(3)).toBe("Queued, 3rd in line");
  });
});
