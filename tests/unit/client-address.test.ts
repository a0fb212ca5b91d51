import type { AddressInfo } from "node:net";
import express from "express";
import { describe, expect, it } from "vitest";
import { clientIp, trustProxySetting } from "../../app/lib/client.server";

/** The address a real Express app resolves for a request sent with `headers`, under EXPORTAL_TRUST_PROXY=`setting`. */
async function resolvedIp(setting: string | undefined, headers: Record<string, string> = {}) {
  const app = express();
  app.set("trust proxy", trustProxySetting(setting));
  app.get("/", (req, res) => void res.send(clientIp(req)));
  const server = app.listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  try {
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, { headers });
    return await res.text();
  } finally {
    server.close();
  }
}

describe("the client address sign-in limits count", () => {
  it("is the socket's by default, whatever X-Forwarded-For claims", async () => {
    expect(await resolvedIp(undefined, { "X-Forwarded-For": "203.0.113.9" })).toBe("127.0.0.1");
    expect(await resolvedIp("false", { "X-Forwarded-For": "203.0.113.9" })).toBe("127.0.0.1");
  });

  it("comes from X-Forwarded-For behind a trusted proxy", async () => {
    expect(await resolvedIp("1", { "X-Forwarded-For": "198.51.100.1, 203.0.113.9" })).toBe("203.0.113.9");
    expect(await resolvedIp("loopback", { "X-Forwarded-For": "203.0.113.9" })).toBe("203.0.113.9");
    expect(await resolvedIp("true", { "X-Forwarded-For": "198.51.100.1, 203.0.113.9" })).toBe("198.51.100.1");
  });

  it("reads the setting as Express's trust proxy takes it", () => {
    expect(trustProxySetting(undefined)).toBe(false);
    expect(trustProxySetting("")).toBe(false);
    expect(trustProxySetting("true")).toBe(true);
    expect(trustProxySetting("2")).toBe(2);
    expect(trustProxySetting("loopback, 10.0.0.0/8")).toBe("loopback, 10.0.0.0/8");
  });
});
