// Writes src/api/generated/{ingest,budgets,billing}.ts from the services' committed OpenAPI documents
// (docs/openapi/), so the console's API types are never written by hand. Run by `build`, `typecheck` and `dev`.
import { mkdir, writeFile } from "node:fs/promises";
import openapiTS, { astToString } from "openapi-typescript";

const services = ["ingest", "budgets", "billing"];
const out = new URL("../src/api/generated/", import.meta.url);
await mkdir(out, { recursive: true });
for (const service of services) {
  const document = new URL(`../../docs/openapi/${service}.json`, import.meta.url);
  const ast = await openapiTS(document);
  const banner = `// Generated from docs/openapi/${service}.json by scripts/generate-api.mjs: do not edit.\n`;
  await writeFile(new URL(`${service}.ts`, out), banner + astToString(ast));
}
console.log(`API types generated for ${services.join(", ")}`);
