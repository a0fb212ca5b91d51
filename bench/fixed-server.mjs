// The floor to compare with: a bare Node HTTP server answering a fixed JSON body.
import http from "node:http";

const [port, bodyFile] = process.argv.slice(2);
const body = (await import("node:fs")).readFileSync(bodyFile);
http
  .createServer((req, res) => {
    res.writeHead(200, { "Content-Type": "application/json; charset=utf-8", "Content-Length": body.length });
    res.end(body);
  })
  .listen(Number(port), "127.0.0.1", () => console.log("listening"));
