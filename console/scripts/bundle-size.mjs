// Prints the built JavaScript's size, raw and gzipped, and fails the build past the budget (250 KB gzipped).
import { readdir, readFile } from "node:fs/promises";
import { gzipSync } from "node:zlib";

const budget = 250 * 1024;
const assets = new URL("../dist/assets/", import.meta.url);
let raw = 0;
let gzipped = 0;
for (const name of await readdir(assets)) {
  if (!name.endsWith(".js")) continue;
  const bytes = await readFile(new URL(name, assets));
  raw += bytes.length;
  gzipped += gzipSync(bytes, { level: 9 }).length;
}
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
console.log(`console JavaScript: ${kb(raw)}, ${kb(gzipped)} gzipped (budget ${kb(budget)} gzipped)`);
if (gzipped > budget) {
  console.error("console JavaScript is over its gzipped budget");
  process.exit(1);
}
