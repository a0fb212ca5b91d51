import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { webhookUrlProblem } from "../../app/delivery/delivery-input";
import { webhookSignature } from "../../app/delivery/webhook-send.server";
import { keySegment } from "../../app/delivery/bucket-upload.server";
import { backoffMs } from "../../app/delivery/deliver-run.server";
import { isPrivateAddress } from "../../app/delivery/public-address.server";

describe("delivery rules", () => {
  it("tells private addresses (this machine, the local network, cloud metadata) from public ones", () => {
    for (const address of ["127.0.0.1", "10.1.2.3", "172.20.0.5", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "::1", "::", "fd00::1", "fe80::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1"]) {
      expect(isPrivateAddress(address), address).toBe(true);
    }
    for (const address of ["8.8.8.8", "1.1.1.1", "172.32.0.1", "2606:4700:4700::1111"]) expect(isPrivateAddress(address), address).toBe(false);
  });

  it("waits 1 minute, 2, 4, … between tries, at most an hour", () => {
    expect([1, 2, 3, 4, 6, 7, 20].map((n) => backoffMs(n) / 60_000)).toEqual([1, 2, 4, 8, 32, 60, 60]);
  });

  it("signs t.body with HMAC-SHA256 in hex", () => {
    const expected = createHmac("sha256", "whsec_x").update('1700000000.{"type":"ping"}').digest("hex");
    expect(webhookSignature("whsec_x", 1700000000, '{"type":"ping"}')).toBe(`t=1700000000,v1=${expected}`);
  });

  it("takes https anywhere and http only on this machine", () => {
    expect(webhookUrlProblem("https://example.com/hook")).toBeNull();
    expect(webhookUrlProblem("http://localhost:8080/hook")).toBeNull();
    expect(webhookUrlProblem("http://127.0.0.1/hook")).toBeNull();
    expect(webhookUrlProblem("http://example.com/hook")).toMatch(/localhost and 127\.0\.0\.1/);
    expect(webhookUrlProblem("ftp://example.com")).toMatch(/https/);
    expect(webhookUrlProblem("https://user:pw@example.com")).toMatch(/user name/);
    expect(webhookUrlProblem("not a url")).toMatch(/full URL/);
  });

  it("names a schedule's folder safely, or by its id", () => {
    expect(keySegment("Nightly HSI", "id")).toBe("Nightly-HSI");
    expect(keySegment("../../etc/passwd", "id")).toBe("etc-passwd");
    expect(keySegment("///", "the-id")).toBe("the-id");
  });
});
