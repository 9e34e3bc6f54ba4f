// What a dropped file is: a model artifact, a public key, or an alert batch.

const HEAD = 256 << 10;
const MAX_MODEL = 256 << 20;

/** Is this parsed JSON a riskscore artifact (format_version plus schema or estimator)? */
export function isArtifact(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
    && 'format_version' in v && ('schema' in v || 'estimator' in v);
}

/** 'key' (.pub), 'model' (a JSON artifact) or 'batch' (anything else). */
export async function classifyFile(file) {
  const name = file.name.toLowerCase();
  if (name.endsWith('.pub')) return 'key';
  if (name.endsWith('.csv') || file.size > MAX_MODEL) return 'batch';
  const head = await file.slice(0, HEAD).text();
  if (!head.includes('"format_version"')) return 'batch';
  try {
    return isArtifact(JSON.parse(await file.text())) ? 'model' : 'batch';
  } catch {
    return 'batch';
  }
}
