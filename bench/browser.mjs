// Browser vs CLI (issue [5/8]): time to score N events (default 100,000 ~1 KB
// alerts from bench/make_alerts_1kb.py) with the example threat_rf model in the
// dashboard in headless Chromium, against `siem-adapter score` (release build,
// default settings: wasm engine, one worker per core) on the same file in the
// same run. The page's time runs from choosing the batch file to the page's
// `data-state="done"` (read, parse, featurize, score in Web Workers, draw),
// measured from outside (Playwright: setInputFiles to the state seen) and
// inside the page (the input's change event to the state change);
// the CLI's from process start to exit (read, parse, score, write the scored
// file), and the same with `--engine native` (scorer-core linked in, no
// sandbox). Usage: node bench/browser.mjs [EVENTS] [REPS]
import fs from "node:fs";
import path from "node:path";
import { execFileSync, spawnSync } from "node:child_process";
import { repo, missingPieces, serve, launch, adapterBin } from "../tests/browser/harness.mjs";

const n = Number(process.argv[2] || 100000);
const reps = Number(process.argv[3] || 3);
const why = missingPieces();
if (why) {
  console.error(why);
  process.exit(2);
}
const dir = path.join(repo, "target/bench-browser");
fs.mkdirSync(dir, { recursive: true });
const input = path.join(dir, `alerts_${n}.jsonl`);
if (!fs.existsSync(input)) execFileSync("python3", ["bench/make_alerts_1kb.py", String(n), input], { cwd: repo, stdio: "inherit" });
const model = path.join(repo, "examples/models/threat_rf.json");
const key = path.join(repo, "examples/keys/dev-signing.pub");
const bin = adapterBin("release");
const mb = (fs.statSync(input).size / 1e6).toFixed(0);
const pageBytes = (function walk(d) {
  return fs.readdirSync(d, { withFileTypes: true }).reduce((a, e) => a + (e.isDirectory() ? walk(path.join(d, e.name)) : (e.name.endsWith(".d.ts") ? 0 : fs.statSync(path.join(d, e.name)).size)), 0);
})(path.join(repo, "splunk-app/appserver/static/dashboard"));
console.log(`page: ${(pageBytes / 1e3).toFixed(0)} KB uncompressed (the scorer .wasm: ${(fs.statSync(path.join(repo, "splunk-app/appserver/static/dashboard/pkg/scorer_wasm_bg.wasm")).size / 1e3).toFixed(0)} KB)`);
const cpu = fs.readFileSync("/proc/cpuinfo", "utf8").match(/model name\s*:\s*(.*)/)?.[1];
console.log(`input: ${n} events, ${mb} MB; machine: ${(await import("node:os")).cpus().length} cores, ${cpu}`);

function cliOnce(engine = "wasm") {
  const t = process.hrtime.bigint();
  const r = spawnSync(bin, ["score", "--engine", engine, "--model", model, "--trusted-key", key, "--input", input, "--output", path.join(dir, "cli.jsonl")], { stdio: "ignore" });
  const s = Number(process.hrtime.bigint() - t) / 1e9;
  if (r.status !== 0 && r.status !== 1) throw new Error(`siem-adapter exited ${r.status}`);
  return s;
}

const server = await serve();
const browser = await launch();
const results = [];
try {
  cliOnce(); // warm the page cache and the module cache
  for (let rep = 1; rep <= reps; rep++) {
    const page = await browser.newPage();
    const t0 = Date.now();
    await page.goto(server.url + "index.html");
    await page.waitForFunction(() => window.riskscore !== undefined);
    const pageS = (Date.now() - t0) / 1000;
    const t1 = Date.now();
    await page.setInputFiles("#model-file", model);
    await page.locator("#model-card").filter({ hasText: "threat_rf" }).waitFor();
    const modelS = (Date.now() - t1) / 1000;
    await page.evaluate(() => {
      window.__bench = {};
      document.querySelector("#batch-file").addEventListener("change", () => { window.__bench.change = performance.now(); });
      // The main thread's longest task while scoring: does the page stay responsive?
      window.__bench.longest = 0;
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) window.__bench.longest = Math.max(window.__bench.longest, e.duration);
      }).observe({ type: "longtask" });
      new MutationObserver(() => {
        if (document.body.dataset.state === "done") window.__bench.done ??= performance.now();
      }).observe(document.body, { attributes: true, attributeFilter: ["data-state"] });
    });
    const t = Date.now();
    await page.setInputFiles("#batch-file", input);
    await page.waitForSelector('body[data-state="done"]', { timeout: 600_000, polling: 10 });
    const browserS = (Date.now() - t) / 1000;
    const inPage = await page.evaluate(() => (window.__bench.done - window.__bench.change) / 1000);
    const longest = await page.evaluate(() => window.__bench.longest);
    const summary = await page.evaluate(() => window.riskscore.summary());
    if (summary.events !== n || summary.scored !== n) throw new Error(`page scored ${summary.scored} of ${summary.events}`);
    await page.close();
    const cliS = cliOnce();
    const nativeS = cliOnce("native");
    results.push({ rep, browserS, cliS, inPage, nativeS });
    console.log(`run ${rep}: page load ${(pageS * 1000).toFixed(0)} ms; model load (wasm compile, workers start, signature check, model card) ${(modelS * 1000).toFixed(0)} ms`);
    console.log(`run ${rep}: Chromium ${browserS.toFixed(3)} s (${Math.round(n / browserS)} events/s; in the page ${inPage.toFixed(3)} s), ` +
      `siem-adapter ${cliS.toFixed(3)} s (${Math.round(n / cliS)} events/s), browser/CLI ${(browserS / cliS).toFixed(2)}x; ` +
      `siem-adapter --engine native ${nativeS.toFixed(3)} s; longest main-thread task ${Math.round(longest)} ms`);
  }
} finally {
  await browser.close();
  await server.close();
}
const med = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const b = med(results.map((r) => r.browserS));
const c = med(results.map((r) => r.cliS));
const p = med(results.map((r) => r.inPage));
const nat = med(results.map((r) => r.nativeS));
console.log(`median: Chromium ${b.toFixed(3)} s (in the page ${p.toFixed(3)} s), siem-adapter ${c.toFixed(3)} s, ` +
  `ratio ${(b / c).toFixed(2)}x (in the page ${(p / c).toFixed(2)}x; target <= 2x); ` +
  `siem-adapter --engine native ${nat.toFixed(3)} s, ratio ${(b / nat).toFixed(2)}x (in the page ${(p / nat).toFixed(2)}x)`);
