// Runs autocannon against one URL in its own process, so the load generator
// does not share a CPU core's event loop with what it measures. Prints JSON.
import autocannon from "autocannon";

const [url, headersJson, duration, connections, vary] = process.argv.slice(2);
// "vary": every request's address differs (a counter in the query), so no answer kept for one address serves another.
const { pathname, search } = new URL(url);
let n = 0;
const varied = { setupRequest: (req) => ({ ...req, path: `${pathname}${search ? `${search}&` : "?"}_bench=${n++}` }) };
const result = await autocannon({
  url,
  headers: JSON.parse(headersJson),
  duration: Number(duration),
  connections: Number(connections),
  ...(vary === "vary" && { requests: [varied] }),
});
console.log(
  JSON.stringify({
    requests: result.requests.total,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  }),
);
