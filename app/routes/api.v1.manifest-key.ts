import { publicApiRoute } from "~/api/api-route.server";
import { manifestPublicKey } from "~/exports/engine/manifest-key.server";

/** The public key that verifies every archive's manifest.sig: public, like the key itself; caches may keep it a few minutes. */
const route = publicApiRoute({
  GET: async () => ({ status: 200, body: manifestPublicKey(), headers: { "Cache-Control": "public, max-age=300" } }),
});

export const loader = route;
export const action = route;
