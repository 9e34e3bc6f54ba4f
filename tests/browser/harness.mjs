// Shared by the dashboard test and bench/browser.mjs: a static file server on
// 127.0.0.1 for the dashboard folder, Debian's Chromium driven by
// playwright-core, and the CLI (siem-adapter) run on the same inputs.
import http from "node:http";
import fs from "node:fs";
import path from "node:path";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";

export const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const dashboard = path.join(repo, "splunk-app/appserver/static/dashboard");
export const chromiumPath = process.env.CHROMIUM || "/usr/bin/chromium";

const types = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".wasm": "application/wasm",
  ".md": "text/plain; charset=utf-8",
  ".svg": "image/svg+xml",
};

/** What the browser test needs and lacks, or null. */
export function missingPieces() {
  const lacks = [];
  if (!fs.existsSync(path.join(dashboard, "pkg/scorer_wasm_bg.wasm"))) lacks.push(`${dashboard}/pkg (run make dashboard)`);
  if (!fs.existsSync(chromiumPath)) lacks.push(`${chromiumPath} (apt-get install chromium)`);
  try {
    createRequire(import.meta.url).resolve("playwright-core");
  } catch {
    lacks.push("playwright-core (cd tests/browser && npm ci)");
  }
  return lacks.length ? `missing: ${lacks.join(", ")}` : null;
}

/** Serve `root` on 127.0.0.1 (a free port); resolves to { url, close }. */
export function serve(root = dashboard) {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, "http://127.0.0.1");
    let file = path.normalize(path.join(root, decodeURIComponent(url.pathname)));
    if (!file.startsWith(root)) {
      res.writeHead(403).end();
      return;
    }
    if (fs.existsSync(file) && fs.statSync(file).isDirectory()) file = path.join(file, "index.html");
    fs.readFile(file, (err, body) => {
      if (err) {
        res.writeHead(404).end("not found");
        return;
      }
      res.writeHead(200, { "content-type": types[path.extname(file)] || "application/octet-stream", "cache-control": "no-store" });
      res.end(body);
    });
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      resolve({ url: `http://127.0.0.1:${server.address().port}/`, close: () => new Promise((r) => server.close(r)) });
    });
  });
}

/** Headless Chromium, sandboxed from the network, with a fresh profile. */
export async function launch() {
  const { chromium } = await import("playwright-core");
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
      "--no-first-run", "--disable-sync", "--disable-quic"],
  });
}

/** The siem-adapter binary: $SIEM_ADAPTER, else the debug or release build. */
export function adapterBin(profile = "debug") {
  return process.env.SIEM_ADAPTER || path.join(repo, "target", profile, "siem-adapter");
}

/** Run `siem-adapter score` and return its output lines parsed (exit 1 = some risk_error: still a full answer). */
export function cliScore(bin, args) {
  let out;
  try {
    out = execFileSync(bin, ["score", ...args, "--output", "-"], { encoding: "utf8", maxBuffer: 1 << 30, stdio: ["ignore", "pipe", "ignore"] });
  } catch (e) {
    if (e.status !== 1) throw e;
    out = e.stdout;
  }
  return out.split("\n").filter((l) => l).map((l) => JSON.parse(l));
}
