#!/usr/bin/env node
// Generates src/generated/** from the pinned UAPI headers (synced by scripts/sync.mjs). Offline and
// deterministic. All files are produced in memory first and then written through temp files and
// renames, so a header it cannot read (reported as file:line) never leaves a partial output.
//
//   node scripts/generate.mjs [--include DIR] [--out DIR]

import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { HeaderError } from './lib/cpp.mjs';
import { generate } from './lib/generate-lib.mjs';
import { haveHeaders, missingHeadersMessage, PACKAGE_DIR, pinnedIncludeDir, readPin } from './lib/paths.mjs';

/** @param {string} flag */
function arg(flag) {
  const i = process.argv.indexOf(flag);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const pin = readPin();
const includeArg = arg('--include');
const includeDir = includeArg ? resolve(includeArg) : pinnedIncludeDir(pin);
const outDir = resolve(arg('--out') ?? join(PACKAGE_DIR, 'src', 'generated'));
if (!includeArg && !haveHeaders(pin)) {
  console.error(`generate: ${missingHeadersMessage(pin)}`);
  process.exit(1);
}

let files;
try {
  files = generate({ includeDir, version: pin.linux, packageVersion: pin.version });
} catch (e) {
  if (e instanceof HeaderError) {
    console.error(`generate: ${e.message}`);
    process.exit(1);
  }
  throw e;
}
const temps = [];
for (const [rel, text] of files) {
  const dest = join(outDir, rel);
  mkdirSync(dirname(dest), { recursive: true });
  const tmp = `${dest}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  temps.push([tmp, dest]);
}
for (const [tmp, dest] of temps) renameSync(tmp, dest);
console.log(`generate: wrote ${files.size} files to ${outDir} (Linux ${pin.linux})`);
