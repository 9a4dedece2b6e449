// Runs Electronegativity's programmatic API over one directory and writes its findings as JSON.
// usage: node electronegativity-run.mjs INPUT_DIR OUTPUT_JSON ELECTRON_VERSION [EXCLUDED_CHECK...]
import { writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';

// At start the tool downloads translations with `got`; there is no network for that here (nor in
// CI), so `got` fails at once instead of timing out, and the bundled English texts are used.
const load = Module._load;
Module._load = function (request, ...rest) {
  if (request === 'got') return () => Promise.reject(new Error('offline'));
  return load.call(this, request, ...rest);
};

const require = createRequire(import.meta.url);
const run = require('@doyensec/electronegativity');
const [input, output, electronVersionOverride, ...excludeFromScan] = process.argv.slice(2);

try {
  const result = await run({ input, electronVersionOverride, excludeFromScan, isRelative: true });
  const issues = result.issues.map((issue) => ({
    id: issue.id,
    severity: issue.severity.name,
    confidence: issue.confidence.name,
    file: issue.file,
    line: issue.location.line,
    sample: issue.sample,
    description: issue.description,
  }));
  writeFileSync(output, JSON.stringify({ checks: result.globalChecks + result.atomicChecks, errors: result.errors, issues }, null, 2));
} catch (err) {
  console.error(err.stack);
  process.exit(1);
}
