#!/usr/bin/env node
// The `bpfjs` executable: runs the command line and exits with its status (0 ok, 1 failed, 2 usage).
import { run } from './cli.js';

run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    // run() never rejects; this is a last resort so nothing ends with an unhandled rejection.
    process.stderr.write(
      `bpfjs: ERR_BPFJS_UNEXPECTED: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exitCode = 1;
  },
);
