/**
 * Output formatting: aligned text tables for people, JSON for scripts. JSON uses bpftool's field
 * names (`id`, `type`, `prog_id`, `netns_ino`, `attach_type`, `ifindex`, `cgroup_id`, ...) for
 * everything bpftool also prints, so `jq` scripts written for `bpftool -j` keep working.
 */

/** A JSON value that may contain bigints (written as plain JSON numbers, as bpftool writes u64). */
export type JsonValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | readonly JsonValue[]
  | { readonly [key: string]: JsonValue | undefined };

/**
 * Serialises `value` as JSON. Unlike `JSON.stringify`, a `bigint` is written as a JSON number with
 * all its digits (bpftool prints 64-bit ids such as `cgroup_id` that way); `undefined` members are
 * left out. `indent` > 0 pretty-prints.
 */
export function toJson(value: JsonValue | undefined, indent = 0): string {
  const pad = (depth: number): string => (indent > 0 ? `\n${' '.repeat(indent * depth)}` : '');
  const sep = indent > 0 ? ': ' : ':';
  const walk = (v: JsonValue | undefined, depth: number): string => {
    if (v === undefined || v === null) return 'null';
    if (typeof v === 'bigint') return v.toString();
    if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'null';
    if (typeof v === 'string' || typeof v === 'boolean') return JSON.stringify(v);
    if (Array.isArray(v)) {
      if (v.length === 0) return '[]';
      const items = v.map((x) => `${pad(depth + 1)}${walk(x, depth + 1)}`);
      return `[${items.join(',')}${pad(depth)}]`;
    }
    const entries = Object.entries(v as Record<string, JsonValue | undefined>).filter(
      ([, x]) => x !== undefined,
    );
    if (entries.length === 0) return '{}';
    const items = entries.map(([k, x]) => `${pad(depth + 1)}${JSON.stringify(k)}${sep}${walk(x, depth + 1)}`);
    return `{${items.join(',')}${pad(depth)}}`;
  };
  return walk(value, 0);
}

/**
 * Renders rows as an aligned text table with a header line. Cells are converted with `String()`;
 * `undefined`/`null` print as `-`. The last column is not padded.
 */
export function table(headers: readonly string[], rows: readonly (readonly unknown[])[]): string {
  const cells = [headers.map(String), ...rows.map((r) => headers.map((_, i) => cellText(r[i])))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return `${cells
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')}\n`;
}

function cellText(v: unknown): string {
  if (v === undefined || v === null || v === '') return '-';
  return escapeControl(String(v));
}

// C0 controls, DEL and C1 controls (ESC starts terminal sequences; 0x9b is a one-byte CSI).
const CONTROL = /\p{Cc}/gu;
const CONTROL_BUT_LINES = /(?!\n)\p{Cc}/gu;

/**
 * Control characters as visible escapes (`\x1b`, `\n`, `\t`, `\xNN`), so text that came from
 * outside (netns names, paths, kernel strings) cannot forge table rows, move the cursor or send
 * escape sequences to the terminal. With `keepNewlines`, line breaks stay (for whole output
 * blocks whose fields were escaped already).
 */
export function escapeControl(text: string, keepNewlines = false): string {
  return text.replace(keepNewlines ? CONTROL_BUT_LINES : CONTROL, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\t') return '\\t';
    if (c === '\r') return '\\r';
    return `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
  });
}

/** camelCase → snake_case (`targetBtfId` → `target_btf_id`). */
export function snakeCase(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z])([A-Z][a-z])/g, '$1_$2')
    .toLowerCase();
}

/**
 * Field names where the object API's camelCase name is not simply bpftool's name in snake_case.
 * (Everything else is converted with {@link snakeCase}.)
 */
const BPFTOOL_NAMES: Readonly<Record<string, string>> = {
  programId: 'prog_id',
  progId: 'prog_id',
  netnsInode: 'netns_ino',
  netnsIno: 'netns_ino',
  hooknum: 'hook',
  hookNum: 'hook',
  priority: 'prio',
  loadTime: 'loaded_at',
  loadedAt: 'loaded_at',
  createdByUid: 'uid',
  gplCompatible: 'gpl_compatible',
  xlatedProgLen: 'bytes_xlated',
  jitedProgLen: 'bytes_jited',
  mapIds: 'map_ids',
  btfId: 'btf_id',
  runTimeNs: 'run_time_ns',
  runCnt: 'run_cnt',
  runCount: 'run_cnt',
  recursionMisses: 'recursion_misses',
  verifiedInsns: 'verified_insns',
  name: 'name',
};

/** bpftool's JSON name for an object-API field name. */
export function bpftoolName(field: string): string {
  return BPFTOOL_NAMES[field] ?? snakeCase(field);
}

/** Converts one field value to JSON: Dates to epoch seconds (bpftool's `loaded_at`), bytes to hex. */
function jsonValue(v: unknown): JsonValue | undefined {
  if (v === undefined || typeof v === 'function' || typeof v === 'symbol') return undefined;
  if (v === null || typeof v === 'boolean' || typeof v === 'number' || typeof v === 'string') return v;
  if (typeof v === 'bigint') return v;
  if (v instanceof Date) return Math.floor(v.getTime() / 1000);
  if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
  if (Array.isArray(v)) return v.map((x) => jsonValue(x) ?? null);
  if (typeof v === 'object') return snakeObject(v as Record<string, unknown>);
  return String(v);
}

/** An object's own fields under bpftool's names (nested objects converted too). */
export function snakeObject(obj: Record<string, unknown>): { [key: string]: JsonValue | undefined } {
  const out: { [key: string]: JsonValue | undefined } = {};
  for (const [k, v] of Object.entries(obj)) {
    const value = jsonValue(v);
    if (value !== undefined) out[bpftoolName(k)] = value;
  }
  return out;
}

/** The first of `keys` that `obj` has (not undefined). */
export function pick(obj: Record<string, unknown>, ...keys: string[]): unknown {
  for (const k of keys) if (obj[k] !== undefined) return obj[k];
  return undefined;
}
