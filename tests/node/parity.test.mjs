// The wasm-bindgen build of the scorer, run by Node, must give exactly the
// scores of native scorer-core (`siem-adapter score --engine native`) for the
// same artifacts and events: every estimator, with missing fields, NaN, huge
// values, Unicode and multivalue fields.
//
// Needs `make browser` (scorer-wasm/npm/node) and the siem-adapter binary
// (target/debug or $SIEM_ADAPTER). Under CI=true a missing piece fails the
// test; elsewhere it is skipped with the reason.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const pkg = path.join(repo, "scorer-wasm/npm/node/scorer_wasm.js");
const bin = process.env.SIEM_ADAPTER || path.join(repo, "target/debug/siem-adapter");
const ci = process.env.CI === "true";

function missing() {
  if (!fs.existsSync(pkg)) return `no ${pkg}: run make browser`;
  if (!fs.existsSync(bin)) return `no ${bin}: run cargo build -p siem-adapter`;
  return null;
}

const why = missing();
if (why && ci) {
  test("node parity prerequisites", () => assert.fail(why));
}

const edgeCases = [
  {},
  { bytes_out: "NaN", src_ip: "not-an-ip", _time: "yesterday", failed_logins: "inf" },
  { bytes_out: 1e308, duration_s: -1e308, failed_logins: "1e400", bytes_in: "-0" },
  { user: "Ωmega-用户-🙂", signature: "日本語のアラート", command_line: 'ünïcödé "quoted"\nnewline', severity: "ＣＲＩＴＩＣＡＬ" },
  { mitre_technique: ["T1059.001", "T1078"], is_admin: true, dest_port: 443, distinct_hosts: [1, 2, 3] },
  { _time: "2024-11-05T03:04:05.123+05:30", severity: "critical", src_ip: "fe80::1%eth0" },
  { _time: 1730419407.922, src_ip: "::ffff:10.0.0.1", bytes_out: "  12345  ", is_admin: "YES" },
];

function readJsonl(file) {
  return fs.readFileSync(file, "utf8").split("\n").filter((l) => l.trim()).map((l) => {
    try { return JSON.parse(l); } catch { return null; }
  }).filter((e) => e !== null);
}

function nativeScores(model, events, tmp) {
  const input = path.join(tmp, "events.jsonl");
  fs.writeFileSync(input, events.map((e) => JSON.stringify(e)).join("\n") + "\n");
  let out;
  try {
    out = execFileSync(bin, ["score", "--engine", "native", "--allow-unsigned", "--model", model, "--input", input, "--output", "-"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
  } catch (e) {
    out = e.stdout; // exit 1 = some events carry risk_error: still a full answer
  }
  return out.split("\n").filter((l) => l).map((l) => JSON.parse(l));
}

test("wasm-bindgen under Node scores exactly like native scorer-core", { skip: why && !ci ? why : false }, () => {
  const require = createRequire(import.meta.url);
  const { Scorer } = require(pkg);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "riskscore-parity-"));
  const alerts = readJsonl(path.join(repo, "examples/data/alerts_new.jsonl")).concat(edgeCases);
  // Sessions as string-valued events, as Splunk hands them over.
  const lines = fs.readFileSync(path.join(repo, "examples/data/sessions_train.csv"), "utf8").trim().split("\n");
  const header = lines[0].split(",");
  const sessions = lines.slice(1).filter((_, i) => i % 7 === 0).map((l) => Object.fromEntries(l.split(",").map((v, i) => [header[i], v]))).concat(edgeCases);
  const models = [["threat_rf", "examples/models/threat_rf.json", alerts], ["threat_lr", "examples/models/threat_lr.json", alerts], ["session_iforest", "examples/models/session_iforest.json", sessions]];
  for (const [alg, label] of [["kmeans", null], ["pca", null], ["linear_regression", "failed_logins"]]) {
    const out = path.join(tmp, `${alg}.json`);
    const features = "_time,duration_s,bytes_out,bytes_in,distinct_hosts,src_ip" + (label ? "" : ",failed_logins");
    execFileSync(bin, ["train", "--algorithm", alg, "--input", path.join(repo, "examples/data/sessions_train.csv"), "--features", features, "--cv-folds", "0", "--output", out].concat(label ? ["--label", label] : []), { stdio: "ignore" });
    models.push([alg, out, sessions]);
  }
  for (const [name, file, events] of models) {
    const modelPath = path.isAbsolute(file) ? file : path.join(repo, file);
    const scorer = Scorer.fromArtifact(fs.readFileSync(modelPath, "utf8"), { allowUnsigned: true });
    const wasm = scorer.scoreBatch(events);
    const native = nativeScores(modelPath, events, tmp);
    assert.equal(wasm.length, events.length, name);
    assert.equal(native.length, events.length, name);
    for (let i = 0; i < events.length; i++) {
      assert.equal(wasm[i].model_output_risk_score, native[i].model_output_risk_score, `${name} event ${i}: score`);
      assert.equal(wasm[i].anomaly_flag, native[i].anomaly_flag, `${name} event ${i}: flag`);
      const nm = native[i].risk_missing_fields ? native[i].risk_missing_fields.split(",") : [];
      assert.deepEqual(wasm[i].risk_missing_fields ?? [], nm, `${name} event ${i}: missing fields`);
    }
    // Single-event API agrees with the batch API.
    assert.deepEqual(scorer.score(events[0]), wasm[0]);
  }
});

test("the browser API refuses tampered and untrusted artifacts, verifies trusted ones", { skip: why && !ci ? why : false }, () => {
  const require = createRequire(import.meta.url);
  const { Scorer } = require(pkg);
  const text = fs.readFileSync(path.join(repo, "examples/models/threat_rf.json"), "utf8");
  const pub = fs.readFileSync(path.join(repo, "examples/keys/dev-signing.pub"), "utf8");
  const s = Scorer.fromArtifact(text, { trustedKeys: [pub] });
  assert.equal(s.verify().status, "verified");
  assert.equal(s.metadata().name, "threat_rf");
  assert.throws(() => Scorer.fromArtifact(text, {}), /not among the trusted keys/);
  const tampered = text.replace('"threshold":0.', '"threshold":0.0');
  assert.notEqual(tampered, text);
  assert.throws(() => Scorer.fromArtifact(tampered, { allowUnsigned: true }), /tampered/);
  const reasons = s.explain({ severity: "critical", src_ip: "203.0.113.9", failed_logins: "40", bytes_out: "9000000000" }, 3);
  assert.ok(reasons.length > 0 && reasons.length <= 3);
  assert.ok(reasons.every((r) => typeof r.feature === "string" && r.contribution > 0));
});
