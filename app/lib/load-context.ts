// What server.ts hands every loader and action besides the request (its getLoadContext).
declare module "@remix-run/node" {
  interface AppLoadContext {
    /**
     * The client's address: the socket's, or with EXPORTAL_TRUST_PROXY set, the
     * one the trusted proxies forwarded. Absent when the portal is not served
     * by server.ts (as when tests call a route directly).
     */
    clientIp?: string;
  }
}

export {};
