// A child process running fixtures/netns-child.mjs on the built dist, spoken to by lines of text
// and answering with JSON lines. Every child is killed (by its pid) in `stop()`.

import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { scaleTimeout } from '@bpfjs/testkit';

const script = fileURLToPath(new URL('../fixtures/netns-child.mjs', import.meta.url));

export interface Child {
  readonly proc: ChildProcess;
  readonly pid: number;
  /** The next JSON line the child prints (rejects after `timeoutMs` or if it exits first). */
  next<T = Record<string, unknown>>(timeoutMs?: number): Promise<T>;
  /** Sends one line to its stdin. */
  send(line: string): void;
  /** Resolves with the exit code and signal. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Everything it printed on stderr so far. */
  stderr(): string;
  /** Kills it (SIGKILL) if still running and waits for the exit. */
  stop(): Promise<void>;
}

export function startChild(args: string[], options: { command?: string[] } = {}): Child {
  const argv = [...(options.command ?? []), process.execPath, script, ...args];
  const proc = spawn(argv[0] as string, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
  const queue: unknown[] = [];
  const waiters: Array<(v: unknown) => void> = [];
  let err = '';
  proc.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      v = { unparsed: line };
    }
    const w = waiters.shift();
    if (w) w(v);
    else queue.push(v);
  });
  let exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    proc.on('exit', (code, signal) => {
      exitInfo = { code, signal };
      resolve(exitInfo);
    });
  });
  return {
    proc,
    pid: proc.pid as number,
    exited,
    stderr: () => err,
    send(line) {
      proc.stdin?.write(`${line}\n`);
    },
    next<T>(timeoutMs = scaleTimeout(20_000)): Promise<T> {
      if (queue.length > 0) return Promise.resolve(queue.shift() as T);
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`child ${proc.pid}: no line within ${timeoutMs} ms; stderr: ${err}`)),
          timeoutMs,
        );
        const w = (v: unknown) => {
          clearTimeout(timer);
          resolve(v as T);
        };
        waiters.push(w);
        void exited.then((e) => {
          const i = waiters.indexOf(w);
          if (i >= 0) {
            waiters.splice(i, 1);
            clearTimeout(timer);
            reject(
              new Error(`child ${proc.pid} exited (${e.code ?? e.signal}) before printing; stderr: ${err}`),
            );
          }
        });
      });
    },
    async stop() {
      if (exitInfo === undefined) {
        proc.kill('SIGKILL');
        await exited;
      }
    },
  };
}
