import type { PoolClient } from "pg";
import { getCopyPool } from "../../../db/client";

/** Runs `work` inside one REPEATABLE READ READ ONLY transaction: every query sees the same snapshot. */
export async function inSnapshot<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await getCopyPool().connect();
  // A connection lost mid-export surfaces through the failing query; without a listener it would also crash the process.
  const onError = () => {};
  client.on("error", onError);
  try {
    await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    const result = await work(client);
    await client.query("COMMIT");
    client.off("error", onError);
    client.release();
    return result;
  } catch (error) {
    // The connection may be mid-COPY; drop it rather than return it to the pool.
    client.release(error as Error);
    throw error;
  }
}
