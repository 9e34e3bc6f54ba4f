// The project-risk survey page (splunk-app/appserver/static/survey/) in a real
// browser (Debian's Chromium, headless, via playwright-core), served on
// 127.0.0.1 from appserver/static so the page reaches ../dashboard/pkg/:
// - the signed model loads and is shown as verified;
// - a clearly low-risk and a clearly high-risk project, filled in the form,
//   are rated "Low risk" and "High risk";
// - the shown score equals `siem-adapter score`'s for the same answers (a
//   one-row CSV written as the training data is), bit for bit, and so do the
//   flag and the reasons (`--explain 3`);
// - a tampered model is refused, and a missing one reported, with a visible message.
// Screenshots go to target/browser-test/.
//
// Needs `make dashboard` (the dashboard's pkg/ and trusted-keys.json),
// Chromium, playwright-core (tests/browser, npm ci) and the siem-adapter debug
// build. Under CI=true a missing piece fails the test; elsewhere the tests are
// skipped with the reason.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { repo, dashboard, missingPieces, serve, launch, adapterBin, cliScore } from "./harness.mjs";

const ci = process.env.CI === "true";
const bin = adapterBin();
const staticRoot = path.join(repo, "splunk-app/appserver/static");
const model = path.join(staticRoot, "survey/project_risk.json");
const key = path.join(repo, "examples/keys/dev-signing.pub");
const shots = path.join(repo, "target/browser-test");

let why = missingPieces();
if (!why && !fs.existsSync(bin)) why = `missing: ${bin} (cargo build -p siem-adapter)`;
if (!why && !fs.existsSync(path.join(dashboard, "trusted-keys.json"))) why = `missing: ${dashboard}/trusted-keys.json (run make dashboard)`;
if (!why && !fs.existsSync(model)) why = `missing: ${model} (examples/project-risk/run.sh)`;
if (why && ci) {
  test("survey browser test prerequisites", () => assert.fail(why));
}
const opts = why ? { skip: why } : {};

const FIELDS = ["production_data", "team_size", "infra_operator", "data_classification",
  "analytics", "software_development", "infrastructure_design", "production_operations"];
const LOW = {
  production_data: "no", team_size: 2, infra_operator: "none", data_classification: "public",
  analytics: "no", software_development: "yes", infrastructure_design: "no", production_operations: "no",
};
const HIGH = {
  production_data: "yes", team_size: 40, infra_operator: "vendor", data_classification: "restricted",
  analytics: "yes", software_development: "yes", infrastructure_design: "yes", production_operations: "yes",
};

let server, browser, tmp;
before(async () => {
  if (why) return;
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "riskscore-survey-"));
  fs.mkdirSync(shots, { recursive: true });
  server = await serve(staticRoot);
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await server?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

async function openPage(url = server.url + "survey/index.html") {
  const page = await browser.newPage({ viewport: { width: 1200, height: 1100 } });
  const errors = [];
  const requests = [];
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("request", (r) => requests.push(r.url()));
  await page.goto(url);
  await page.waitForFunction(() => ["ready", "scored", "error"].includes(document.body.dataset.state));
  return { page, errors, requests };
}

async function fill(page, a) {
  await page.check(`input[name="production_data"][value="${a.production_data}"]`);
  await page.fill("#team_size", String(a.team_size));
  await page.selectOption("#infra_operator", a.infra_operator);
  await page.selectOption("#data_classification", a.data_classification);
  for (const f of ["analytics", "software_development", "infrastructure_design", "production_operations"]) {
    await page.setChecked(`input[name="${f}"]`, a[f] === "yes");
  }
  await page.click("#rate");
  await page.waitForFunction((want) => {
    const last = window.survey?.last;
    return document.body.dataset.state === "scored" && last && JSON.stringify(last.event) === want;
  }, JSON.stringify(Object.fromEntries(FIELDS.map((f) => [f, a[f]]))));
  return {
    verdict: (await page.textContent("#verdict")).trim(),
    flag: Number(await page.getAttribute("#verdict", "data-flag")),
    shown: (await page.textContent("#score")).trim(),
    score: Number(await page.getAttribute("#score", "data-score")),
    reasons: await page.locator("#reasons li").evaluateAll((els) =>
      els.map((e) => ({ field: e.dataset.field, contribution: Number(e.dataset.contribution), text: e.textContent }))),
  };
}

/** The CLI on a one-row CSV with the same answers, written as make_survey.py writes the training data. */
function native(a, name) {
  const file = path.join(tmp, `${name}.csv`);
  fs.writeFileSync(file, `${FIELDS.join(",")}\n${FIELDS.map((f) => String(a[f])).join(",")}\n`);
  const out = cliScore(bin, ["--engine", "native", "--model", model, "--trusted-key", key, "--input", file, "--explain", "3"]);
  assert.equal(out.length, 1);
  return out[0];
}

test("survey: a low-risk and a high-risk project are rated as such, with the CLI's score, flag and reasons", opts, async () => {
  const { page, errors, requests } = await openPage();
  assert.equal(await page.getAttribute("body", "data-state"), "scored", await page.textContent("#error"));
  const card = await page.textContent("#model");
  assert.match(card, /project_risk@/);
  assert.match(card, /verified/i, "the model card shows the verified signature");
  assert.match(card, /approved/i);

  const seen = {};
  for (const [name, answers, verdict] of [["low", LOW, "Low risk"], ["high", HIGH, "High risk"], ["low-again", LOW, "Low risk"]]) {
    const got = await fill(page, answers);
    const want = native(answers, name);
    assert.equal(got.verdict, verdict, `${name}: verdict`);
    assert.equal(got.score, want.model_output_risk_score, `${name}: the page's score is the CLI's, bit for bit`);
    assert.equal(got.shown, want.model_output_risk_score.toFixed(3), `${name}: the shown score`);
    assert.equal(got.flag, want.anomaly_flag, `${name}: flag`);
    const cliReasons = want.risk_reasons ? want.risk_reasons.split(", ") : [];
    assert.deepEqual(got.reasons.map((r) => `${r.field}(+${r.contribution.toFixed(3)})`), cliReasons, `${name}: reasons`);
    assert.ok(got.reasons.every((r) => r.text.length > 20 && !r.text.includes("_")), `${name}: reasons in plain words: ${got.reasons.map((r) => r.text)}`);
    seen[name] = got;
    if (name !== "low-again") await page.screenshot({ path: path.join(shots, `survey-${name}.png`), fullPage: true });
  }
  assert.ok(seen.high.score > seen.low.score);
  assert.equal(seen["low-again"].score, seen.low.score, "the same answers score the same");
  assert.ok(seen.high.reasons.length >= 2, "the high-risk project has reasons");

  // An invalid answer is said, and nothing is rated.
  await page.fill("#team_size", "");
  await page.waitForSelector('body[data-state="invalid"]');
  assert.equal(await page.isVisible("#team-size-error"), true);

  const origin = new URL(server.url).origin;
  assert.deepEqual(requests.filter((u) => !u.startsWith(origin)), [], "no request leaves the page's own origin");
  assert.deepEqual(errors, [], "no uncaught errors in the page");
  await page.close();
});

test("survey: a tampered model is refused, and a missing one reported, with a visible message", opts, async () => {
  // A copy of the static tree whose model has a changed weight (its digest no longer matches).
  const root = path.join(tmp, "static");
  fs.mkdirSync(path.join(root, "survey"), { recursive: true });
  fs.cpSync(dashboard, path.join(root, "dashboard"), { recursive: true });
  for (const f of ["index.html", "survey.js", "survey.css"]) fs.copyFileSync(path.join(staticRoot, "survey", f), path.join(root, "survey", f));
  const art = JSON.parse(fs.readFileSync(model, "utf8"));
  art.estimator.intercept += 1;
  fs.writeFileSync(path.join(root, "survey/project_risk.json"), JSON.stringify(art));
  const other = await serve(root);
  try {
    const { page, errors } = await openPage(other.url + "survey/index.html");
    assert.equal(await page.getAttribute("body", "data-state"), "error");
    assert.equal(await page.isVisible("#error"), true);
    assert.match(await page.textContent("#error"), /Model refused: .*(digest|tamper)/i);
    assert.equal(await page.isDisabled("#rate"), true);
    assert.deepEqual(errors, []);
    await page.close();

    // No model at all: said on the page too.
    fs.rmSync(path.join(root, "survey/project_risk.json"));
    const missing = await openPage(other.url + "survey/index.html");
    assert.equal(await missing.page.getAttribute("body", "data-state"), "error");
    assert.match(await missing.page.textContent("#error"), /model could not be fetched .*404/i);
    await missing.page.close();
  } finally {
    await other.close();
  }
});
