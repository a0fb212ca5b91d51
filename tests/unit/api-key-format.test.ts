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
    // A known answer, computed outside this code (`printf %s KEY | sha256sum`): stored hashes must keep
    // matching the keys programs hold, across processes and releases.
    const key = "xpk_AxmUYwdPlt75jYDurikmAaGERVpyWxOGF7yMRX";
    expect(isWellFormedApiKey(key)).toBe(true);
    expect(hashApiKey(key)).toBe("f5d9facf43a7996e4e1d09c71f334cea7c249fc85afbaf8b707742c7f32c9793");
    // Every key its own digest, none holding any part of the key's random body.
    const keys = Array.from({ length: 200 }, generateApiKey);
    const digests = keys.map(hashApiKey);
    expect(new Set(digests).size).toBe(keys.length);
    keys.forEach((k, i) => {
      expect(digests[i]).toMatch(/^[0-9a-f]{64}$/);
      for (let at = 4; at + 8 <= k.length; at += 8) expect(digests[i]).not.toContain(k.slice(at, at + 8));
    });
  });
});
