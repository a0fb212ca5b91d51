// Routes reach the database through app/lib, never db/ directly.
export { getDb } from "../../db/client";
