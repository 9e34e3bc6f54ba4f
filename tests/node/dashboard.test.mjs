// The browser dashboard's pure modules (splunk-app/appserver/static/dashboard):
// formats.js must read alert batches as `siem-adapter score` reads them,
// wire.js must encode the model's fields exactly as scorer-core's json_field
// reads them (RSB2), render.js must write what the CLI writes. And, when the
// wasm-bindgen Node build has `scoreColumns`, scoring through that encoding
// must equal `scoreBatch` on the same events (under CI=true a build without
// it fails the test; elsewhere the check is skipped with the reason).
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const dash = path.join(repo, "splunk-app/appserver/static/dashboard");
const pkg = path.join(repo, "scorer-wasm/npm/node/scorer_wasm.js");
const ci = process.env.CI === "true";

// The dashboard ships plain .js ES modules (no package.json): import copies
// marked as modules, so any Node version reads them as such.
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "riskscore-dashboard-"));
fs.writeFileSync(path.join(tmp, "package.json"), '{"type":"module"}\n');
for (const f of ["formats.js", "wire.js", "render.js", "sortkeys.js", "ranges.js"]) fs.copyFileSync(path.join(dash, f), path.join(tmp, f));
const load = (f) => import(pathToFileURL(path.join(tmp, f)).href);
const F = await load("formats.js");
const W = await load("wire.js");
const R = await load("render.js");
const S = await load("sortkeys.js");
const G = await load("ranges.js");

const all = (text) => F.readAll(text).map((r) => (r.error !== undefined ? { line: r.line, error: r.error, raw: r.raw } : { line: r.line, event: r.event, text: r.text }));

// ---- formats ----------------------------------------------------------------

test("JSON lines: order, true line numbers, blank lines, CRLF, bad lines keep their place", () => {
  const r = all('{"a":1}\r\n{"a":\n[1]\n\n  \n{"a":2}\n{"b":"x"}');
  assert.deepEqual(r.map((x) => x.line), [1, 2, 3, 6, 7]);
  assert.deepEqual(r[0].event, { a: 1 });
  assert.equal(r[0].text, '{"a":1}');
  assert.match(r[1].error, /^malformed JSON: /);
  assert.equal(r[1].raw, '{"a":');
  assert.equal(r[2].error, "not a JSON object but an array");
  assert.deepEqual(r[4].event, { b: "x" });
});

test("JSON lines: non-objects name their kind", () => {
  const r = all('{"ok":true}\n42\n"s"\nnull\ntrue\n[1,2]\n');
  assert.deepEqual(r.slice(1).map((x) => x.error), [
    "not a JSON object but a number", "not a JSON object but a string", "not a JSON object but null",
    "not a JSON object but a boolean", "not a JSON object but an array",
  ]);
  assert.deepEqual(r.slice(1).map((x) => x.raw), ["42", '"s"', "null", "true", "[1,2]"]);
});

test("JSON lines: a number that overflows an f64 makes the line malformed, as serde_json does", () => {
  const big = "1" + "0".repeat(400);
  const r = all(`{"a":1e400}\n{"a":[0,-1E+400]}\n{"a":{"b":${big}}}\n{"a":1e-400,"s":"1e400 ${"9".repeat(30)}"}\n{"a":1e308}\n`);
  for (const x of r.slice(0, 3)) assert.match(x.error, /^malformed JSON: number out of range/);
  assert.deepEqual(r[3].event, { a: 0, s: `1e400 ${"9".repeat(30)}` });
  assert.deepEqual(r[4].event, { a: 1e308 });
});

test("Splunk export stream: preview rows skipped, result is the event (its own text), markers skipped", () => {
  const s = [
    '{"preview":true,"offset":0,"result":{"a":"p"}}',
    '{"preview":false,"offset":0,"result":{"a":"1", "n": {"result": 2}}}',
    '{"preview":false,"offset":1,"lastrow":true,"result":{"a":"2"}}',
    '{"preview":false,"lastrow":true}',
    '{"preview":false,"messages":[{"type":"INFO","text":"x"}]}',
    '{"messages":[]}',
    '{"result":"not an object","x":1}',
  ].join("\n");
  const r = all(s);
  assert.deepEqual(r.map((x) => x.line), [2, 3, 6, 7]);
  assert.equal(r[0].text, '{"a":"1", "n": {"result": 2}}');
  assert.deepEqual(r[1].event, { a: "2" });
  assert.deepEqual(r[2].event, { messages: [] });
  assert.deepEqual(r[3].event, { result: "not an object", x: 1 });
});

test("Splunk results documents: on one line, pretty-printed, whole arrays, first line alone not JSON", () => {
  const one = all('{"a":0}\n{"preview":false,"results":[{"a":"x"}, 5, {"a":"y","q":"]}"}]}\n{"results":[]}\n{"a":9}\n');
  assert.deepEqual(one.map((x) => x.line), [1, 2, 2, 2, 4]);
  assert.equal(one[2].error, "not a JSON object but a number");
  assert.equal(one[3].text, '{"a":"y","q":"]}"}');
  const pretty = all('{\n  "preview": false,\n  "results": [ {"a": "x"}, {"a": "y"}, 7 ]\n}\n');
  assert.deepEqual(pretty.map((x) => x.event ?? x.error), [{ a: "x" }, { a: "y" }, "not a JSON object but a number"]);
  assert.deepEqual(pretty.map((x) => x.line), [1, 2, 3], "numbered by position, as siem-adapter's reader does");
  const prettyArray = all('[\n {"a": 1},\n {"a": 2}\n]\n');
  assert.deepEqual(prettyArray.map((x) => x.event), [{ a: 1 }, { a: 2 }]);
  const oneLineArray = all('[{"a": 1}, {"a": 2}]');
  assert.deepEqual(oneLineArray.map((x) => x.event), [{ a: 1 }, { a: 2 }]);
  const fallback = all('{"preview":false, "results": [\n{"a": 1},\n{"a": 2}]}\n');
  assert.deepEqual(fallback.map((x) => x.event), [{ a: 1 }, { a: 2 }]);
  const brokenDoc = all('{\n "results": [ {"a": 1}, \n');
  assert.equal(brokenDoc.length, 1);
  assert.match(brokenDoc[0].error, /^malformed JSON document: /);
  assert.equal(brokenDoc[0].line, 1);
  // A broken first line that is no document: line 1 is an error, the rest is read.
  const broken = all('{"a":\n{"a":2}\n');
  assert.match(broken[0].error, /^malformed JSON/);
  assert.deepEqual(broken[1], { line: 2, event: { a: 2 }, text: '{"a":2}' });
});

/** Read `bytes` as the page does with `parts` workers (byte ranges), numbering lines as the page does. */
async function readSplit(bytes, cuts, block) {
  const blob = new Blob([bytes]);
  const bounds = [0, ...cuts, bytes.length];
  const runs = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const got = [];
    const sink = {
      event: (obj, text, line) => got.push({ line, event: obj, text }),
      error: (line, error, raw) => got.push({ line, error, raw }),
    };
    const newlines = await G.readRange(blob, bounds[i], bounds[i + 1], sink, { block });
    runs.push({ got, newlines });
  }
  let base = 0;
  const out = [];
  for (const r of runs) {
    for (const x of r.got) out.push({ ...x, line: x.line + base });
    base += r.newlines;
  }
  return out;
}

test("JSON lines split between workers by byte ranges: every line once, in order, true line numbers", async () => {
  const enc = new TextEncoder();
  const long = "é".repeat(3000);
  const text = `{"a":1}\n\n{"u":"Ωmega-用户-🙂"}\r\n{"bad":\n{"long":"${long}"}\n  \n[1]\n{"b":2}\n{"c":"${long}"}`;
  const reference = all(text);
  assert.equal(reference.length, 7);
  const bytes = enc.encode(text);
  let rng = 12345;
  const rand = (n) => { rng = (rng * 1103515245 + 12345) % 2147483648; return rng % n; };
  const cases = [[], [1], [8], [9], [bytes.length - 1], [bytes.indexOf(10) + 1, bytes.indexOf(10) + 2]];
  for (let k = 0; k < 40; k++) {
    const n = 1 + rand(4);
    cases.push(Array.from({ length: n }, () => rand(bytes.length)).sort((a, b) => a - b));
  }
  for (const cuts of cases) {
    for (const block of [5, 64, 1 << 20]) {
      const got = await readSplit(bytes, cuts, block);
      assert.deepEqual(got, reference, `cuts ${cuts} block ${block}`);
    }
  }
});

test("byte ranges: a line that is not UTF-8 is refused alone; a byte-order mark at the start is dropped", async () => {
  const bytes = new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode('{"a":1}\n{"b":"'), 0xff, ...new TextEncoder().encode('"}\n{"c":3}\n')]);
  for (const cuts of [[], [5], [12], [17]]) {
    const got = await readSplit(bytes, cuts, 4);
    assert.deepEqual(got.map((x) => x.event ?? x.error), [{ a: 1 }, "line is not UTF-8", { c: 3 }], `cuts ${cuts}`);
    assert.deepEqual(got.map((x) => x.line), [1, 2, 3]);
    assert.equal(got[1].raw, '{"b":"\ufffd"}');
  }
});

test("planInput picks how the page splits an input", () => {
  assert.equal(F.planInput('{"a":1}\n{"a":2}\n', true), "lines");
  assert.equal(F.planInput('\n\n{"a":1}\n', true), "lines");
  assert.equal(F.planInput('{\n "results": []\n}', true), "whole");
  assert.equal(F.planInput('[{"a":1}]', true), "whole");
  assert.equal(F.planInput('{"results": [\n{"a":1}]}', true), "whole");
  assert.equal(F.planInput('{"a": "very long first line', false), "whole");
  assert.equal(F.planInput("a,b\n1,2\n", true), "csv");
  assert.equal(F.planInput("", true), "lines");
});

test("CSV: RFC 4180 quoting, multivalue cells, empty cells absent, ragged records, record numbers", () => {
  const text = 'a,b,"c ""q"""\r\n1,"x\ny","he said ""hi"", twice"\r\n2\n,,\n\n3,4,5,6\n"7","",8\n"9"z,"a""b"c,\n';
  const r = all(text);
  assert.deepEqual(r[0], { line: 1, event: { a: "1", b: ["x", "y"], 'c "q"': 'he said "hi", twice' }, text: '{"a":"1","b":["x","y"],"c \\"q\\"":"he said \\"hi\\", twice"}' });
  assert.deepEqual(r[1], { line: 2, error: "CSV record has 1 cells, the header has 3", raw: "2" });
  assert.deepEqual(r[2].event, {}, "all-empty cells: an event with no fields");
  assert.deepEqual(r[3], { line: 4, error: "CSV record has 4 cells, the header has 3", raw: "3,4,5,6" });
  assert.deepEqual(r[4].event, { a: "7", 'c "q"': "8" });
  assert.deepEqual(r[5].event, { a: "9z", b: 'a"bc' }, "text after a closing quote is kept, as the csv crate does");
  assert.equal(r.length, 6);
});

test("CSV: a multivalue cell with an empty first value, CR inside quotes, lastrow column quirk", () => {
  const r = all('u,v\n"\nb","x\r\ny"\n');
  assert.deepEqual(r[0].event, { u: ["", "b"], v: ["x\r", "y"] });
  const q = all("lastrow,a\n1,2\n,3\n");
  assert.deepEqual(q.map((x) => x.event), [{ a: "3" }], "a row with a lastrow field is not an event, as in siem-adapter");
});

// ---- wire ---------------------------------------------------------------------

/** A small RSB2 reader, independent of wire.js. */
function readBatch(u8) {
  const dv = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
  assert.equal(Buffer.from(u8.subarray(0, 4)).toString("latin1"), "RSB2");
  const rows = dv.getUint32(4, true);
  const cols = dv.getUint32(8, true);
  const nExt = dv.getUint32(12, true);
  const sLen = dv.getUint32(16, true);
  assert.equal(dv.getUint32(20, true), 0, "reserved header word");
  const n = rows * cols;
  const payAt = 24 + Math.ceil(n / 8) * 8;
  assert.ok(u8.subarray(24 + n, payAt).every((b) => b === 0), "kind padding");
  const extAt = payAt + 8 * n;
  const sAt = extAt + 24 * nExt;
  assert.equal(u8.length, sAt + sLen, "length = header + kinds + payloads + extensions + strings");
  const strings = Buffer.from(u8.subarray(sAt));
  const text = (off, len) => {
    assert.ok(off + len <= sLen);
    const t = strings.subarray(off, off + len).toString("utf8");
    assert.equal(Buffer.from(t, "utf8").length, len, "whole UTF-8 characters");
    return t;
  };
  const used = new Set();
  const out = [];
  for (let c = 0; c < cols; c++) {
    for (let r = 0; r < rows; r++) {
      const i = c * rows + r;
      const p = payAt + 8 * i;
      let kind = u8[24 + i];
      let cell;
      if (kind === 6) {
        const x = dv.getUint32(p, true);
        assert.equal(dv.getUint32(p + 4, true), 0);
        assert.ok(x < nExt && !used.has(x), `extension ${x}`);
        used.add(x);
        const e = extAt + 24 * x;
        kind = u8[e];
        assert.deepEqual([...u8.subarray(e + 1, e + 4)], [0, 0, 0], "padding");
        assert.ok(kind <= 4, `extension kind ${kind}`);
        cell = { kind, count: dv.getUint32(e + 4, true) };
        assert.ok(cell.count !== 1 || kind === 0, "a single value needs no extension");
        if (kind === 1) cell.number = dv.getFloat64(e + 8, true);
        else assert.equal(dv.getFloat64(e + 8, true), 0);
        if (kind === 2) cell.text = text(dv.getUint32(e + 16, true), dv.getUint32(e + 20, true));
        else assert.equal(dv.getUint32(e + 16, true) + dv.getUint32(e + 20, true), 0);
      } else {
        assert.ok(kind <= 4, `kind ${kind}`);
        cell = { kind, count: kind === 0 ? 0 : 1 };
        if (kind === 1) cell.number = dv.getFloat64(p, true);
        else if (kind === 2) cell.text = text(dv.getUint32(p, true), dv.getUint32(p + 4, true));
        else assert.equal(dv.getBigUint64(p, true), 0n, "payload of a cell without one");
      }
      (out[r] ||= [])[c] = cell;
    }
  }
  assert.equal(used.size, nExt, "every extension is used once");
  return { rows, cols, cells: out };
}

test("RSB2 encoding reads fields as json_field does (kinds, counts, numbers, Unicode text)", () => {
  const fields = ["s", "n", "b", "arr", "missing", "u"];
  const events = [
    { s: "alice", n: 3.25, b: true, arr: ["x", "y", "z"], u: "Ωmega-用户-🙂 e\u0301" },
    { s: "", n: -0, b: false, arr: [], missing: null, u: "ＣＲＩＴＩＣＡＬ" },
    { s: ["", "b"], n: [7, 8], b: [false], arr: [null, 1], missing: { nested: 1 }, u: [["a"]] },
    { s: "12345", n: 1e308, b: "true", arr: [true, false], u: [{ o: 1 }, "x"] },
    {},
    { toString: "own", constructor: 5 },
  ];
  const enc = new W.BatchEncoder(fields);
  const b = readBatch(enc.encode(events));
  assert.equal(b.rows, 6);
  assert.equal(b.cols, 6);
  const [e0, e1, e2, e3, e4] = b.cells;
  assert.deepEqual(e0, [
    { kind: 2, count: 1, text: "alice" }, { kind: 1, count: 1, number: 3.25 }, { kind: 3, count: 1 },
    { kind: 2, count: 3, text: "x" }, { kind: 0, count: 0 }, { kind: 2, count: 1, text: "Ωmega-用户-🙂 e\u0301" },
  ]);
  assert.deepEqual(e1.slice(0, 5), [{ kind: 0, count: 0 }, { kind: 1, count: 1, number: -0 }, { kind: 4, count: 1 }, { kind: 0, count: 0 }, { kind: 0, count: 0 }]);
  assert.ok(Object.is(e1[1].number, -0));
  assert.deepEqual(e1[5], { kind: 2, count: 1, text: "ＣＲＩＴＩＣＡＬ" });
  assert.deepEqual(e2, [
    { kind: 2, count: 2, text: "" }, { kind: 1, count: 2, number: 7 }, { kind: 4, count: 1 },
    { kind: 0, count: 2 }, { kind: 0, count: 0 }, { kind: 0, count: 1 },
  ]);
  assert.deepEqual(e3, [
    { kind: 2, count: 1, text: "12345" }, { kind: 1, count: 1, number: 1e308 }, { kind: 2, count: 1, text: "true" },
    { kind: 3, count: 2 }, { kind: 0, count: 0 }, { kind: 0, count: 2 },
  ]);
  assert.ok(e4.every((c) => c.kind === 0 && c.count === 0));
  // The buffers are reused: a second, smaller batch is still exact.
  const again = readBatch(enc.encode([{ u: "🙂".repeat(50000) }, { s: "z" }], 0, 2));
  assert.equal(again.cells[0][5].text, "🙂".repeat(50000));
  assert.equal(again.cells[1][0].text, "z");
  const sub = readBatch(enc.encode(events, 3, 4));
  assert.equal(sub.rows, 1);
  assert.equal(sub.cells[0][0].text, "12345");
  assert.deepEqual(W.decodeBatch(enc.encode(events)).cells[5][0], { kind: 2, count: 1, text: "Ωmega-用户-🙂 e\u0301" });
});

test("RSR1 results decode, and malformed ones are refused", () => {
  const n = 3;
  const words = 1;
  const reasons = '[[],[],[]]';
  const masksAt = Math.ceil((16 + 16 * n + n) / 8) * 8;
  const buf = new Uint8Array(masksAt + 8 * n * words + reasons.length);
  const dv = new DataView(buf.buffer);
  buf.set([0x52, 0x53, 0x52, 0x31]);
  dv.setUint32(4, n, true); dv.setUint32(8, words, true); dv.setUint32(12, reasons.length, true);
  [0.25, NaN, 1].forEach((x, i) => dv.setFloat64(16 + 8 * i, x, true));
  [0.5, 2, -1].forEach((x, i) => dv.setFloat64(16 + 8 * n + 8 * i, x, true));
  buf.set([0, 0, 1], 16 + 16 * n);
  dv.setBigUint64(masksAt + 8, (1n << 40n) | 2n, true);
  buf.set(Buffer.from(reasons), masksAt + 8 * n);
  const r = W.decodeResults(buf);
  assert.equal(r.n, 3);
  assert.deepEqual([...r.score].map(String), ["0.25", "NaN", "1"]);
  assert.deepEqual([...r.flag], [0, 0, 1]);
  assert.deepEqual([...r.mask.subarray(2, 4)], [2, 1 << 8]);
  assert.equal(r.reasons, reasons);
  assert.deepEqual(R.missingFields(r.mask, 2, Array.from({ length: 41 }, (_, i) => (i === 1 ? "one" : i === 40 ? "forty" : "x"))), ["one", "forty"]);
  assert.throws(() => W.decodeResults(buf.subarray(0, buf.length - 1)), /expected/);
  assert.throws(() => W.decodeResults(new Uint8Array(16)), /RSR1/);
});

// ---- render -------------------------------------------------------------------

test("numbers as serde_json (zmij) writes them; lines as siem-adapter writes them", () => {
  const cases = [[0, "0.0"], [1, "1.0"], [0.25, "0.25"], [0.5006799729121852, "0.5006799729121852"], [1e-7, "1e-7"],
    [1.5e-6, "1.5e-6"], [0.000015, "0.000015"], [123456789, "123456789.0"], [1.2345678901234568e17, "1.2345678901234568e+17"], [1e308, "1e+308"], [1e16, "1e+16"], [1e15, "1000000000000000.0"], [-0.5, "-0.5"]];
  for (const [x, s] of cases) assert.equal(R.formatF64(x), s, String(x));
  const v = { score: 0.25, flag: 1, reasons: "a(+0.100)", missing: ["user", "host"] };
  assert.equal(R.renderEventLine('{"b": "x\\u00e9",  "a":1.50}', v, "m@1", false, false),
    '{"b": "x\\u00e9",  "a":1.50,"model_output_risk_score":0.25,"anomaly_flag":1,"risk_model":"m@1","risk_reasons":"a(+0.100)","risk_missing_fields":"user,host"}');
  assert.equal(R.renderEventLine("{ }", { score: 1, flag: 1, missing: [] }, "m@1", true, false),
    '{ "model_output_risk_score":1.0,"anomaly_flag":1,"risk_model":"m@1"}');
  assert.equal(R.renderEventLine('{"anomaly_flag":0,"x":1}', { score: 0, flag: 0, reasons: null, missing: [] }, "m@1", false, true),
    '{"anomaly_flag":0,"x":1,"model_output_risk_score":0.0,"risk_model":"m@1"}');
  assert.equal(R.renderEventLine('{"x":1}', { error: R.NAN_ERROR }, "m@1", false, false),
    `{"x":1,"risk_error":${JSON.stringify(R.NAN_ERROR)},"risk_model":"m@1"}`);
  assert.equal(R.renderUnreadableLine('{"a":\r', "line 3: malformed JSON: x", "m@1"), '{"_raw":"{\\"a\\":","risk_error":"line 3: malformed JSON: x","risk_model":"m@1"}');
  assert.equal(R.renderUnreadableLine("", "line 1: unreadable", "m@1"), '{"risk_error":"line 1: unreadable","risk_model":"m@1"}');
  assert.equal(R.csvRecord(["a,b", 'say "hi"', "x\ny", "plain", ""]), '"a,b","say ""hi""","x\ny",plain,\n');
  assert.equal(R.csvRecord([""]), '""\n');
  assert.equal(R.cellText(["a", "b"]), "a\nb");
  assert.equal(R.cellText(1, "model_output_risk_score"), "1.0");
  assert.equal(R.cellText(443), "443");
  assert.equal(R.cellText({ a: [1] }), '{"a":[1]}');
});

test("sorting by a field: per-worker runs merge into one order (numbers, then text, absent last)", () => {
  const parts = [["b", "10", null, "A"], [9, "a", "", ["2"], "b"]];
  const runs = parts.map((p) => S.sortRun(p.map(S.sortKey)));
  const asc = [...S.mergeRuns(runs, [0, 4])];
  const key = (g) => (g < 4 ? parts[0][g] : parts[1][g - 4]);
  assert.deepEqual(asc.map(key), [["2"], 9, "10", "A", "a", "b", "b", null, ""]);
  assert.deepEqual(asc, [7, 4, 1, 3, 5, 0, 8, 2, 6]);
  const desc = [...S.mergeRuns(runs, [0, 4], true)];
  assert.deepEqual(desc, [0, 8, 3, 5, 1, 4, 7, 2, 6], "descending: ties in input order, absent still last");
});

test("the risk order computed on the page equals the workers' merged runs (errors last, ties in input order)", () => {
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const scores = Float64Array.from({ length: 5000 }, () => {
    const r = rnd();
    return r < 0.05 ? NaN : Math.round(r * 50) / 50; // many ties
  });
  const halves = [scores.subarray(0, 2400), scores.subarray(2400)];
  const runs = halves.map((h) => S.sortRun(Array.from(h, (x) => (Number.isNaN(x) ? null : x))));
  for (const desc of [false, true]) {
    assert.deepEqual([...S.scoreOrder(scores, desc)], [...S.mergeRuns(runs, [0, 2400], desc)], `desc=${desc}`);
  }
});

// ---- the real scorer ------------------------------------------------------------

function scorerPackage() {
  if (!fs.existsSync(pkg)) return { why: `no ${pkg}: run make browser` };
  const require = createRequire(import.meta.url);
  const mod = require(pkg);
  if (typeof mod.Scorer?.prototype?.scoreColumns !== "function") return { why: `${pkg} has no scoreColumns: rebuild it with make browser` };
  return { mod };
}

const { mod, why } = scorerPackage();
if (why && ci) test("scoreColumns prerequisites", () => assert.fail(why));

test("scoreColumns over the dashboard's encoding equals scoreBatch (threat_rf, alerts_new.jsonl)", { skip: why && !ci ? why : false }, () => {
  const art = fs.readFileSync(path.join(repo, "examples/models/threat_rf.json"), "utf8");
  const key = fs.readFileSync(path.join(repo, "examples/keys/dev-signing.pub"), "utf8");
  const scorer = mod.Scorer.fromArtifact(art, { allowUnsigned: false, trustedKeys: [key] });
  const read = F.readAll(fs.readFileSync(path.join(repo, "examples/data/alerts_new.jsonl"), "utf8"));
  const bad = read.filter((r) => r.error !== undefined);
  assert.equal(bad.length, 1);
  assert.equal(bad[0].line, 10, "the example's malformed line");
  const extra = [
    {}, { bytes_out: "NaN", src_ip: "not-an-ip", _time: "yesterday", failed_logins: "inf" },
    { bytes_out: 1e308, bytes_in: -1e308, failed_logins: "1e400", dest_port: "-0" },
    { user: "Ωmega-用户-🙂", signature: "日本語のアラート", command_line: 'ünïcödé "quoted"\nnewline', severity: "ＣＲＩＴＩＣＡＬ" },
    { mitre_technique: ["T1059.001", "T1078"], is_admin: true, dest_port: 443, severity: ["", "high"], signature: [] },
    { _time: "2024-11-05T03:04:05.123+05:30", severity: "critical", src_ip: "fe80::1%eth0", process_name: null, command_line: { a: 1 } },
    { _time: 1730419407.922, src_ip: ["::ffff:10.0.0.1"], bytes_out: "  12345  ", is_admin: "YES", failed_logins: [[3]] },
  ];
  const events = read.filter((r) => r.event).map((r) => r.event).concat(extra);
  const fields = scorer.fields();
  const features = scorer.features().map((f) => f.field);
  const enc = new W.BatchEncoder(fields);
  const expected = scorer.scoreBatch(events);
  const got = { score: [], flag: [], missing: [] };
  for (let i = 0; i < events.length; i += 300) {
    const to = Math.min(events.length, i + 300);
    const r = W.decodeResults(scorer.scoreColumns(enc.encode(events, i, to), 0, false));
    assert.equal(r.n, to - i);
    for (let j = 0; j < r.n; j++) {
      got.score.push(r.score[j]);
      got.flag.push(r.flag[j]);
      got.missing.push(R.missingFields(r.mask, j * 2 * r.maskWords, features));
    }
  }
  let scored = 0;
  events.forEach((e, i) => {
    const x = expected[i];
    if (x.model_output_risk_score === undefined) {
      assert.ok(Number.isNaN(got.score[i]), `event ${i}: ${x.risk_error}`);
      return;
    }
    scored++;
    assert.ok(Object.is(got.score[i], x.model_output_risk_score), `event ${i}: ${got.score[i]} vs ${x.model_output_risk_score}`);
    assert.equal(got.flag[i], x.anomaly_flag, `event ${i} flag`);
    assert.deepEqual(got.missing[i], x.risk_missing_fields || [], `event ${i} missing fields`);
  });
  assert.ok(scored >= 999);
  // Reasons, as the CLI writes them, for a few rows.
  const reasons = scorer.explainColumns(enc.encode(events, 0, 5), 3);
  assert.equal(reasons.length, 5);
  for (const r of reasons) assert.match(r, /^([a-z_=.0-9]+\(\+\d+\.\d{3}\)(, )?){0,3}$/i);
  // A malformed batch is refused, not scored.
  assert.throws(() => scorer.scoreColumns(new Uint8Array([0x52, 0x53, 0x42, 0x31]), 0, false));
  scorer.free();
});
