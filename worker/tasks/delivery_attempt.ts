import type { Task } from "graphile-worker";
import { z } from "zod";
import { getDb } from "../../db/client";
import { attemptDelivery } from "../../app/delivery/deliver-run.server";

const payload = z.object({ deliveryId: z.uuid() });

/** One try of one delivery (email, webhook or bucket); the next try, if any, is queued by the try itself. */
export const delivery_attempt: Task = async (raw) => {
  const { deliveryId } = payload.parse(raw);
  await attemptDelivery(getDb(), deliveryId);
};
