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
