import { readFileSync } from 'node:fs';
import { escapeControl } from './format.js';

/** Exit status of a command that failed (kernel refusal, missing object, I/O error). */
export const EXIT_FAILURE = 1;
/** Exit status of a command line that could not be understood (unknown command, bad argument). */
export const EXIT_USAGE = 2;

/**
 * A command line that is well-formed for the parser but still wrong (an id that is not a number,
 * `netns attach` without `--pin` or `--hold`). Printed like a parser error, exit status 2.
 */
export class UsageError extends Error {
  /** Always `'ERR_BPFJS_USAGE'`. */
  readonly code = 'ERR_BPFJS_USAGE';
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * A failure the CLI detects itself (not a kernel errno): carries a permanent `code` such as
 * `'ERR_BPFJS_NOT_FOUND'` or `'ERR_BPFJS_DEMO_FAILED'`. Exit status 1.
 */
export class CliError extends Error {
  /** Permanent machine-readable code. */
  readonly code: string;
  /** Extra lines printed under the error (how to fix it). */
  readonly hint: string | undefined;
  constructor(code: string, message: string, hint?: string) {
    super(message);
    this.name = 'CliError';
    this.code = code;
    this.hint = hint;
  }
}

/** The capabilities the commands may need, with their bit numbers (linux/capability.h). */
export const CAPABILITIES = {
  CAP_NET_ADMIN: 12,
  CAP_SYS_ADMIN: 21,
  CAP_PERFMON: 38,
  CAP_BPF: 39,
} as const;

/** A capability name the CLI knows about. */
export type Capability = keyof typeof CAPABILITIES;

/**
 * The effective capability set of this process, read from `/proc/self/status` (`CapEff`), or
 * `undefined` when it cannot be read (then nothing is claimed about privileges).
 */
export function effectiveCapabilities(statusText?: string): bigint | undefined {
  let text = statusText;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/status', 'utf8');
    } catch {
      return undefined;
    }
  }
  const m = /^CapEff:\s*([0-9a-fA-F]+)\s*$/m.exec(text);
  return m ? BigInt(`0x${m[1]}`) : undefined;
}

/** The capabilities of `needed` that are missing from `effective` (none when unknown). */
export function missingCapabilities(
  needed: readonly Capability[],
  effective = effectiveCapabilities(),
): Capability[] {
  if (effective === undefined) return [];
  return needed.filter((cap) => (effective & (1n << BigInt(CAPABILITIES[cap]))) === 0n);
}

/** One sentence telling how to get `missing` capabilities for `commandLine`. */
export function privilegeHint(missing: readonly Capability[], commandLine: string): string {
  const caps = missing.join(' + ');
  return (
    `this needs ${caps}, which this process does not have: run it as root (\`sudo ${commandLine}\`), ` +
    `or start it with the capabilit${missing.length > 1 ? 'ies' : 'y'} granted ` +
    `(e.g. systemd \`AmbientCapabilities=${missing.join(' ')}\`)`
  );
}

/** `code` of an error, duck-typed (kernel errors from @bpfjs/link carry `'EEXIST'` etc.). */
export function errorCode(error: unknown): string {
  if (error !== null && typeof error === 'object') {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code.length > 0) return code;
    const name = (error as { name?: unknown }).name;
    if (typeof name === 'string' && name.length > 0 && name !== 'Error') return name;
  }
  return 'ERR_BPFJS_UNEXPECTED';
}

/** The message of an error without a leading `CODE: ` (kernel messages start with their code). */
export function errorMessage(error: unknown): string {
  const code = errorCode(error);
  const raw = error instanceof Error ? error.message : String(error);
  const prefix = `${code}: `;
  return raw.startsWith(prefix) ? raw.slice(prefix.length) : raw;
}

/**
 * Formats a failure for stderr: `bpfjs: <code>: <message>`, then the error's `hint` (if it is not
 * already part of the message) and, for EPERM/EACCES with capabilities missing, which capability
 * the command needs and how to get it.
 */
export function formatFailure(
  error: unknown,
  needed: readonly Capability[],
  commandLine: string,
  effective = effectiveCapabilities(),
): string {
  const code = escapeControl(errorCode(error));
  const message = errorMessage(error);
  const lines = [`bpfjs: ${code}: ${escapeControl(message)}`];
  const hint = (error as { hint?: unknown } | null)?.hint;
  if (typeof hint === 'string' && hint.length > 0 && !message.includes(hint))
    lines.push(`bpfjs: ${escapeControl(hint)}`);
  if (code === 'EPERM' || code === 'EACCES') {
    const missing = missingCapabilities(needed, effective);
    if (missing.length > 0) lines.push(`bpfjs: ${privilegeHint(missing, commandLine)}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * A failure as bpftool prints it in JSON mode: `{"error":"<message>"}` (plus bpfjs's `code` and
 * `hint`), one line on stdout, so `bpfjs --json … | jq` sees it. Exit statuses stay 1 and 2.
 */
export function formatJsonFailure(error: unknown, pretty: boolean): string {
  const hint = (error as { hint?: unknown } | null)?.hint;
  const message = errorMessage(error);
  const value: Record<string, string> = { error: message, code: errorCode(error) };
  if (typeof hint === 'string' && hint.length > 0 && !message.includes(hint)) value.hint = hint;
  return `${JSON.stringify(value, null, pretty ? 2 : 0)}\n`;
}
