// Parses an AsyncAPI document with the AsyncAPI parser (the one AsyncAPI's own tools use) and prints its
// diagnostics as JSON: {"errors": [...], "warnings": [...]}. Exit 1 when there is any error.
// Usage: node tools/asyncapi_validate.mjs docs/asyncapi.yaml  (run by tests/unit/test_asyncapi.py)
import { Parser, fromFile } from '@asyncapi/parser';

const parser = new Parser();
const { diagnostics } = await fromFile(parser, process.argv[2]).parse();
const describe = (d) => ({ code: d.code, message: d.message, path: d.path.join('.') });
const errors = diagnostics.filter((d) => d.severity === 0).map(describe);
const warnings = diagnostics.filter((d) => d.severity === 1).map(describe);
console.log(JSON.stringify({ errors, warnings }, null, 1));
process.exit(errors.length ? 1 : 0);
