import { resolve } from 'node:path';
import { type Capability, errorCode, UsageError } from './errors.js';
import { type JsonValue, toJson } from './format.js';
import type { Io } from './io.js';

/** What every command action gets: where to write, the global options, and the command line. */
export interface Context {
  /** Output streams and the interrupt signal. */
  readonly io: Io;
  /** `--json` was given: print JSON instead of tables. */
  readonly json: boolean;
  /** `--pretty` was given: indent JSON (implies `--json`). */
  readonly pretty: boolean;
  /** The command line as the user would retype it (`bpfjs link list`), for hints. */
  readonly commandLine: string;
  /** Capabilities the running command needs (named in privilege hints). */
  needs(...caps: Capability[]): void;
}

/** Prints `value` as one JSON document (pretty with `--pretty`). */
export function printJson(ctx: Context, value: JsonValue): void {
  ctx.io.out(`${toJson(value, ctx.pretty ? 2 : 0)}\n`);
}

/** A parsed `<id | path>` argument. */
export type Selector =
  | { readonly kind: 'id'; readonly id: number }
  | { readonly kind: 'path'; readonly path: string };

/**
 * Parses an `<id | pinned path>` argument: all digits → an object id (1 … 2^32-1), anything else →
 * a path on bpffs (made absolute). Throws {@link UsageError} for an empty string or an id out of range.
 */
export function parseSelector(text: string, what: string): Selector {
  if (text.length === 0)
    throw new UsageError(`${what}: expected an id or a pinned path, got an empty string`);
  if (/^\d+$/.test(text)) {
    const id = Number(text);
    if (!Number.isSafeInteger(id) || id < 1 || id > 0xffff_ffff) {
      throw new UsageError(`${what}: id ${text} is out of range (1 to 4294967295)`);
    }
    return { kind: 'id', id };
  }
  if (text.includes('\0')) throw new UsageError(`${what}: path contains a NUL byte`);
  return { kind: 'path', path: resolve(text) };
}

/** `link 17` / `link pinned at /sys/fs/bpf/x`, for messages. */
export function describeSelector(sel: Selector, what: string): string {
  return sel.kind === 'id' ? `${what} ${sel.id}` : `${what} pinned at ${sel.path}`;
}

/**
 * An error with a context prefix (`link 99: ...`) that keeps the original `code` and `hint`, so the
 * printed line stays `bpfjs: <code>: <context>: <message>`.
 */
export class ContextError extends Error {
  /** The code of the wrapped error. */
  readonly code: string;
  /** The hint of the wrapped error, if any. */
  readonly hint: string | undefined;
  constructor(context: string, cause: unknown) {
    const c = errorCode(cause);
    const raw = cause instanceof Error ? cause.message : String(cause);
    const msg = raw.startsWith(`${c}: `) ? raw.slice(c.length + 2) : raw;
    super(`${context}: ${msg}`, { cause });
    this.name = 'ContextError';
    this.code = c;
    const hint = (cause as { hint?: unknown } | null)?.hint;
    this.hint = typeof hint === 'string' ? hint : undefined;
  }
}

/** Runs `fn`; a thrown error is re-thrown with `context` in front of its message. */
export function withContext<T>(context: string, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    throw new ContextError(context, error);
  }
}
