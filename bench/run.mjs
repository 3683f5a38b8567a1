#!/usr/bin/env node
// Runs every benchmark in bench/ (or the ones named on the command line) and writes bench/results/<name>.json and .md.
import { readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const wanted = process.argv.slice(2);
const files = (await readdir(here)).filter((f) => f.endsWith('.bench.mjs')).filter((f) => !wanted.length || wanted.some((w) => f.includes(w)));
for (const file of files.sort()) {
  console.log(`\n=== ${file}`);
  const { run } = await import(pathToFileURL(join(here, file)).href);
  await run();
}
