/** Runs files of test-fixtures/ in a child vitest (with the testkit setup file); test helper. */
import { execFile } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root: string = fileURLToPath(new URL('../../../../', import.meta.url));
const config = fileURLToPath(new URL('../../test-fixtures/vitest.config.ts', import.meta.url));
const vitestBin = join(createRequire(import.meta.url).resolve('vitest/package.json'), '..', 'vitest.mjs');

/** The parts of vitest's JSON report the tests read. */
export interface JsonReport {
  testResults: Array<{
    name: string;
    status: string;
    message: string;
    assertionResults: Array<{ fullName: string; status: string; failureMessages: string[] }>;
  }>;
}

/** Runs the given fixture files (names under test-fixtures/) and returns exit code and JSON report. */
export function runFixtures(...files: string[]): Promise<{ code: number | null; report: JsonReport }> {
  return runFixturesWithEnv({}, ...files);
}

/** Like {@link runFixtures}, with extra environment variables for the child. */
export function runFixturesWithEnv(
  extraEnv: Record<string, string>,
  ...files: string[]
): Promise<{ code: number | null; report: JsonReport }> {
  const out = join(
    tmpdir(),
    `bpfjs-child-report-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}.json`,
  );
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!k.startsWith('VITEST') && k !== 'NODE_OPTIONS') env[k] = v;
  Object.assign(env, extraEnv);
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [vitestBin, 'run', '--config', config, '--reporter=json', `--outputFile=${out}`, ...files],
      { cwd: root, env, timeout: 120_000 },
      (err, _stdout, stderr) => {
        try {
          const report = JSON.parse(readFileSync(out, 'utf8')) as JsonReport;
          resolve({ code: err === null ? 0 : ((err as { code?: number }).code ?? null), report });
        } catch (e) {
          reject(new Error(`child vitest produced no report: ${String(e)}\n${stderr}`));
        } finally {
          rmSync(out, { force: true });
        }
      },
    );
  });
}

/** The result of one fixture file in a report, looked up by its file name. */
export function fileResult(report: JsonReport, file: string): JsonReport['testResults'][number] | undefined {
  return report.testResults.find((r) => r.name.endsWith(`/test-fixtures/${file}`));
}
