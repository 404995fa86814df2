#!/usr/bin/env node
// Package correctness: every publishable package is packed and checked with publint and
// @arethetypeswrong/cli, so what we publish resolves for both ESM and CJS consumers.
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';

let failed = 0;
for (const dir of readdirSync('packages')) {
  const cwd = `packages/${dir}`;
  for (const [tool, args] of [
    ['publint', ['publint', '--strict', '.']],
    ['attw', ['attw', '--pack', '.', '--profile', 'node16', '--format', 'table-flipped']],
  ]) {
    try {
      execFileSync('pnpm', ['exec', ...args], { cwd, stdio: 'pipe', encoding: 'utf8' });
      console.log(`ok   ${tool.padEnd(8)} @bpfjs/${dir}`);
    } catch (err) {
      failed++;
      console.log(`FAIL ${tool.padEnd(8)} @bpfjs/${dir}\n${err.stdout ?? ''}${err.stderr ?? ''}`);
    }
  }
}
if (failed) {
  console.error(`check:packages: ${failed} check(s) failed`);
  process.exit(1);
}
