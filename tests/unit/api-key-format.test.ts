import { describe, expect, it } from "vitest";
import { generateApiKey, hashApiKey, isWellFormedApiKey } from "../../app/api/key-format";

describe("API key format", () => {
  it("generates distinct, recognisable, self-checking keys", () => {
    const keys = Array.from({ length: 200 }, generateApiKey);
    expect(new Set(keys).size).toBe(200);
    for (const key of keys) {
      expect(key).toMatch(/^xpk_[0-9A-Za-z]{38}$/);
      expect(isWellFormedApiKey(key)).toBe(true);
    }
  });

  it("rejects a changed character, a wrong prefix or length before any lookup", () => {
    const key = generateApiKey();
    const flip = (i: number) => key.slice(0, i) + (key[i] === "a" ? "b" : "a") + key.slice(i + 1);
    for (const i of [4, 20, 35, 36, 41]) expect(isWellFormedApiKey(flip(i)), `char ${i}`).toBe(false);
    expect(isWellFormedApiKey("xpk_" + key.slice(4, -1))).toBe(false);
    expect(isWellFormedApiKey("sk_" + key.slice(3))).toBe(false);
    expect(isWellFormedApiKey("")).toBe(false);
  });

  it("hashes to a stable digest that does not contain the key", () => {
    const key = generateApiKey();
    expect(hashApiKey(key)).toBe(hashApiKey(key));
    expect(hashApiKey(key)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashApiKey(key)).not.toContain(key.slice(4, 12));
  });
});
