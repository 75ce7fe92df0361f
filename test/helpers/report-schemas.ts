// Validators for keyless's reports: the JSON report against our own schema
// (docs/schemas/scan-report.v1.schema.json, draft 2020-12), SARIF against the SARIF 2.1.0 schema, and
// `keyless status --json` against docs/schemas/status.v1.schema.json.
//
// The SARIF schema is the one @microsoft/jest-sarif ships (lib/schemas/sarif-2.1.0-rtm.5.json, from
// Microsoft's sarif-js-sdk, MIT): in every validation keyword it is the OASIS TC's schema submitted for
// the 2.1.0 OASIS Standard (only descriptions differ). The later OASIS errata (errata01) add `"type":
// "string"` to enums and require a region to have startLine, charOffset or byteOffset; reports.test.ts
// checks startLine on every result. No npm package ships the errata01 file itself.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import AjvDraft04 from 'ajv-draft-04';
import addFormats from 'ajv-formats';
import type { ErrorObject, ValidateFunction } from 'ajv';

const require = createRequire(import.meta.url);

/** dist/test/helpers → the schema committed in the source tree */
export const SCAN_REPORT_SCHEMA_PATH = fileURLToPath(
  new URL('../../../docs/schemas/scan-report.v1.schema.json', import.meta.url),
);
export const STATUS_SCHEMA_PATH = fileURLToPath(
  new URL('../../../docs/schemas/status.v1.schema.json', import.meta.url),
);
export const SARIF_SCHEMA_PATH = require.resolve('@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json');

const readJson = (path: string): Record<string, unknown> =>
  JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;

export interface Validation {
  valid: boolean;
  /** "instancePath: message" lines, empty when valid */
  errors: string[];
}

function run(validate: ValidateFunction, doc: unknown): Validation {
  const valid = validate(doc) === true;
  const errors = (validate.errors ?? []).map(
    (e: ErrorObject) => `${e.instancePath || '/'}: ${e.message ?? e.keyword} ${JSON.stringify(e.params)}`,
  );
  return { valid, errors };
}

let scanReport: ValidateFunction | undefined;
let sarif: ValidateFunction | undefined;
let status: ValidateFunction | undefined;

/** `keyless status --json` (as parsed) against docs/schemas/status.v1.schema.json. */
export function validateStatus(doc: unknown): Validation {
  if (!status) {
    const ajv = new Ajv2020({ allErrors: true, strict: true });
    addFormats.default(ajv);
    status = ajv.compile(readJson(STATUS_SCHEMA_PATH));
  }
  return run(status, doc);
}

/** The JSON report (as parsed) against docs/schemas/scan-report.v1.schema.json. */
export function validateScanReport(doc: unknown): Validation {
  if (!scanReport) {
    // strict: unknown keywords or formats in our own schema are errors, not silently ignored
    const ajv = new Ajv2020({ allErrors: true, strict: true });
    addFormats.default(ajv);
    scanReport = ajv.compile(readJson(SCAN_REPORT_SCHEMA_PATH));
  }
  return run(scanReport, doc);
}

/** A SARIF log (as parsed) against the SARIF 2.1.0 JSON schema (draft-04). */
export function validateSarif(doc: unknown): Validation {
  if (!sarif) {
    // strict off: the SARIF schema is not ours and uses draft-04 idioms ajv's strict mode flags.
    // unicodeRegExp off: its language pattern has a stray "]" (fixed by errata01), which is a literal
    // in a plain ECMA-262 regex but a syntax error with the u flag ajv uses by default.
    const ajv = new AjvDraft04.default({ allErrors: true, strict: false, unicodeRegExp: false });
    addFormats.default(ajv);
    sarif = ajv.compile(readJson(SARIF_SCHEMA_PATH));
  }
  return run(sarif, doc);
}
