// s3rver ships no types; the little the tests use of it (it is a Koa application).
declare module "s3rver" {
  import type { Server } from "node:http";
  import type { AddressInfo } from "node:net";
  export interface Context {
    method: string;
    query: Record<string, string | string[] | undefined>;
    status: number;
    type: string;
    body: unknown;
  }
  export default class S3rver {
    constructor(options: { port?: number; address?: string; directory: string; silent?: boolean; configureBuckets?: { name: string; configs: string[] }[] });
    middleware: ((ctx: Context, next: () => Promise<void>) => Promise<void>)[];
    httpServer?: Server;
    run(): Promise<AddressInfo>;
  }
}
