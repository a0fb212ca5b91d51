import type { Request as ExpressRequest } from "express";

/**
 * The header server.ts sets on every request to the client's address, taken
 * from the socket (or, behind a trusted proxy, from X-Forwarded-For). It
 * replaces whatever a client sent under that name, so it cannot be forged.
 */
export const CLIENT_IP_HEADER = "x-exportal-client-ip";

/** The client's address and user agent, as the audit trail records them. */
export function clientOf(request: Request): { ip: string | null; userAgent: string | null } {
  return { ip: request.headers.get(CLIENT_IP_HEADER) || null, userAgent: request.headers.get("user-agent") };
}

/**
 * Express's `trust proxy` from EXPORTAL_TRUST_PROXY. Unset (or "false"), no
 * proxy is trusted and the socket's address is the client's; X-Forwarded-For
 * counts only when it is set: "true" (trust every hop), a hop count ("1"), or
 * addresses and subnets ("loopback, 10.0.0.0/8").
 */
export function trustProxySetting(value = process.env.EXPORTAL_TRUST_PROXY?.trim()): boolean | number | string {
  if (!value || value === "false") return false;
  if (value === "true") return true;
  return /^\d+$/.test(value) ? Number(value) : value;
}

/** The client's address as Express resolves it under that setting; IPv4 without the IPv6-mapped prefix. */
export function clientIp(req: ExpressRequest): string | undefined {
  return (req.ip ?? req.socket.remoteAddress)?.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, "");
}
