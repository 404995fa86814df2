import { readFileSync } from 'node:fs';
import { BpfMap, type BpfMapInfo, mapBtfCodecs, maps } from '@bpfjs/map';
import type { Command } from 'commander';
import {
  type Context,
  describeSelector,
  parseSelector,
  printJson,
  type Selector,
  withContext,
} from '../context.js';
import { UsageError } from '../errors.js';
import { type JsonValue, table, toJson } from '../format.js';
import type { JsonRecord } from '../records.js';
import type { Action } from './action.js';
import { printRecordBlock } from './link.js';

type RawMap = BpfMap<Uint8Array, Uint8Array | Uint8Array[]>;

/** Opens a map named on the command line (id or pinned path) with raw byte keys and values. */
function openMap(sel: Selector): RawMap {
  return withContext(describeSelector(sel, 'map'), () =>
    sel.kind === 'id' ? BpfMap.fromId(sel.id) : BpfMap.fromPin(sel.path),
  ) as RawMap;
}

/** `/proc/self/fdinfo/<fd>` fields bpftool reads for `map show` (`memlock`, `frozen`). */
function fdinfo(fd: number): Record<string, number> {
  const out: Record<string, number> = {};
  try {
    for (const m of readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8').matchAll(/^(\w+):\s*(\d+)$/gm)) {
      out[m[1] as string] = Number(m[2]);
    }
  } catch {
    // No procfs: the fields are left out.
  }
  return out;
}

/** A map's info as bpftool's `map show` JSON record. */
function mapRecord(info: BpfMapInfo, extra: Record<string, number> = {}): JsonRecord {
  const r: JsonRecord = {
    id: info.id,
    type: info.type,
    name: info.name,
    flags: info.flags,
    bytes_key: info.keySize,
    bytes_value: info.valueSize,
    max_entries: info.maxEntries,
  };
  if (extra.memlock !== undefined) r.bytes_memlock = extra.memlock;
  if (extra.frozen !== undefined) r.frozen = extra.frozen;
  if (info.btfId !== 0) r.btf_id = info.btfId;
  return r;
}

/** bpftool's JSON form of bytes: `["0x01","0x00",...]`. */
function hexJson(bytes: Uint8Array): string[] {
  return Array.from(bytes, (b) => `0x${b.toString(16).padStart(2, '0')}`);
}

/** bpftool's plain form of bytes: `01 00 00 00`. */
function hexPlain(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
}

/** The map's BTF codecs for bpftool's `formatted` (undefined without BTF). */
type Formatter = ReturnType<typeof mapBtfCodecs>;

/**
 * One element as bpftool's `map dump`/`lookup` JSON: `{ key, value }` or, per CPU, `{ key, values }`,
 * plus `formatted` (the same through the map's BTF, in bpftool's shape) when the map has BTF.
 */
function elementRecord(key: Uint8Array, value: Uint8Array | Uint8Array[], btf: Formatter): JsonRecord {
  const record: JsonRecord = Array.isArray(value)
    ? { key: hexJson(key), values: value.map((v, cpu) => ({ cpu, value: hexJson(v) })) }
    : { key: hexJson(key), value: hexJson(value) };
  if (btf !== undefined) {
    const k = btf.key === undefined ? hexJson(key) : (btf.key.formatBpftool(key) as JsonValue);
    const fmt = (v: Uint8Array) =>
      btf.value === undefined ? hexJson(v) : (btf.value.formatBpftool(v) as JsonValue);
    record.formatted = Array.isArray(value)
      ? { key: k, values: value.map((v, cpu) => ({ cpu, value: fmt(v) })) }
      : { key: k, value: fmt(value) };
  }
  return record;
}

function elementPlain(key: Uint8Array, value: Uint8Array | Uint8Array[], btf: Formatter): string {
  if (btf !== undefined) {
    // bpftool prints BTF maps as their formatted JSON, one element per block.
    return `${toJson((elementRecord(key, value, btf).formatted ?? null) as JsonValue, 4)}\n`;
  }
  if (Array.isArray(value)) {
    const cpus = value.map((v, cpu) => `value (CPU ${String(cpu).padStart(2, '0')}): ${hexPlain(v)}`);
    return `key:\n${hexPlain(key)}\n${cpus.join('\n')}\n`;
  }
  return `key: ${hexPlain(key)}  value: ${hexPlain(value)}\n`;
}

/**
 * Parses bytes as bpftool takes them: `1 0 0 0`, `0x01 0x00 ...`, or after `hex`, `01 00` / `0100`
 * (hex without prefix).
 */
export function parseBytes(words: readonly string[], what: string): Uint8Array {
  let hex = false;
  let list = words;
  if (list[0] === 'hex') {
    hex = true;
    list = list.slice(1);
  }
  const out: number[] = [];
  for (const w of list) {
    if (hex) {
      if (!/^(?:[0-9a-fA-F]{2})+$/.test(w)) throw new UsageError(`${what}: '${w}' is not hex bytes`);
      for (let i = 0; i < w.length; i += 2) out.push(Number.parseInt(w.slice(i, i + 2), 16));
      continue;
    }
    const n = /^0x[0-9a-fA-F]{1,2}$/.test(w)
      ? Number.parseInt(w, 16)
      : /^\d{1,3}$/.test(w)
        ? Number(w)
        : Number.NaN;
    if (!(n >= 0 && n <= 255)) throw new UsageError(`${what}: '${w}' is not a byte (0-255 or 0x00-0xff)`);
    out.push(n);
  }
  return Uint8Array.from(out);
}

/** Splits `key B... [value B...] [any|noexist|exist]` as bpftool's map commands take it. */
function parseElementWords(words: readonly string[], needValue: boolean) {
  const k = words.indexOf('key');
  if (k !== 0) throw new UsageError("expected 'key' followed by its bytes");
  const v = words.indexOf('value');
  if (needValue && v < 0) throw new UsageError("expected 'value' followed by its bytes");
  if (!needValue && v >= 0) throw new UsageError("unexpected 'value'");
  let end = words.length;
  let flag: 'any' | 'noexist' | 'exist' | undefined;
  const last = words[words.length - 1];
  if (needValue && (last === 'any' || last === 'noexist' || last === 'exist')) {
    flag = last;
    end--;
  }
  const key = parseBytes(words.slice(1, v < 0 ? end : v), 'key');
  const value = v < 0 ? undefined : parseBytes(words.slice(v + 1, end), 'value');
  return { key, value, flag };
}

function checkSize(bytes: Uint8Array, size: number, what: string): void {
  if (bytes.byteLength !== size) {
    throw new UsageError(`${what}: got ${bytes.byteLength} bytes, the map's ${what} size is ${size}`);
  }
}

function listMaps(ctx: Context): void {
  ctx.needs('CAP_SYS_ADMIN');
  const records = [...maps()].map((i) => mapRecord(i)).sort((a, b) => Number(a.id) - Number(b.id));
  if (ctx.json) printJson(ctx, records);
  else if (records.length === 0) ctx.io.out('no maps\n');
  else printMapTable(ctx, records);
}

/** Prints map records as a table (ID TYPE NAME KEY VALUE MAX_ENTRIES FLAGS). */
function printMapTable(ctx: Context, records: readonly JsonRecord[]): void {
  ctx.io.out(
    table(
      ['ID', 'TYPE', 'NAME', 'KEY', 'VALUE', 'MAX_ENTRIES', 'FLAGS'],
      records.map((r) => [
        r.id,
        r.type,
        r.name,
        `${r.bytes_key}B`,
        `${r.bytes_value}B`,
        r.max_entries,
        `0x${Number(r.flags).toString(16)}`,
      ]),
    ),
  );
}

function withMap<T>(ctx: Context, arg: string, fn: (map: RawMap, sel: Selector) => T): T {
  const sel = parseSelector(arg, '<map>');
  if (sel.kind === 'id') ctx.needs('CAP_SYS_ADMIN');
  ctx.needs('CAP_BPF');
  const map = openMap(sel);
  try {
    return withContext(describeSelector(sel, 'map'), () => fn(map, sel));
  } finally {
    map.close();
  }
}

/** Registers `bpfjs map {list,show,dump,lookup,update,delete,pin,freeze}` on `program`. */
export function addMapCommands(program: Command, act: Action): void {
  const map = program.command('map').description('show and change BPF maps (like `bpftool map`)');

  map
    .command('list')
    .alias('ls')
    .description('list every map: id, type, name, key/value sizes, max entries, flags')
    .addHelpText('after', '\nExample:\n  bpfjs map list --json | jq \'.[] | select(.type == "sockmap")\'')
    .action(act((ctx) => listMaps(ctx)));

  map
    .command('show')
    .description('show one map (by id or pinned path); without an argument, like `list`')
    .argument('[map]', 'map id or pinned path')
    .action(
      act((ctx, arg?: string) => {
        if (arg === undefined) {
          listMaps(ctx);
          return;
        }
        withMap(ctx, arg, (m, sel) => {
          const record = mapRecord(m.info(), fdinfo(m.fd.fd));
          if (sel.kind === 'path') record.pinned = [sel.path];
          if (ctx.json) printJson(ctx, record);
          else printRecordBlock(ctx, `map ${record.id}`, record);
        });
      }),
    );

  map
    .command('dump')
    .description('print every element (keys and values as bytes, as bpftool does)')
    .argument('<map>', 'map id or pinned path')
    .addHelpText('after', '\nExample:\n  bpfjs map dump /sys/fs/bpf/counts --json')
    .action(
      act((ctx, arg: string) =>
        withMap(ctx, arg, (m) => {
          const btf = mapBtfCodecs(m.info());
          const elements = [...m.entries()];
          if (ctx.json)
            printJson(
              ctx,
              elements.map(([k, v]) => elementRecord(k, v, btf)),
            );
          else {
            for (const [k, v] of elements) ctx.io.out(elementPlain(k, v, btf));
            ctx.io.out(`Found ${elements.length} element${elements.length === 1 ? '' : 's'}\n`);
          }
        }),
      ),
    );

  map
    .command('lookup')
    .description('print the value of one key')
    .argument('<map>', 'map id or pinned path')
    .argument('<key...>', "'key' and its bytes: key 1 0 0 0 | key 0x01 0x00 0x00 0x00 | key hex 01000000")
    .action(
      act((ctx, arg: string, words: string[]) =>
        withMap(ctx, arg, (m) => {
          const { key } = parseElementWords(words, false);
          checkSize(key, m.keySize, 'key');
          const value = m.get(key);
          if (value === undefined) {
            throw Object.assign(new Error(`key ${hexPlain(key)} not found`), { code: 'ENOENT' });
          }
          const btf = mapBtfCodecs(m.info());
          if (ctx.json) printJson(ctx, elementRecord(key, value, btf));
          else ctx.io.out(elementPlain(key, value, btf));
        }),
      ),
    );

  map
    .command('update')
    .description('set one key to a value (flags: any (default), noexist, exist)')
    .argument('<map>', 'map id or pinned path')
    .argument('<words...>', 'key BYTES value BYTES [any|noexist|exist]')
    .addHelpText('after', '\nExample:\n  bpfjs map update 17 key 1 0 0 0 value 2 0 0 0 0 0 0 0 noexist')
    .action(
      act((ctx, arg: string, words: string[]) =>
        withMap(ctx, arg, (m) => {
          const { key, value, flag } = parseElementWords(words, true);
          checkSize(key, m.keySize, 'key');
          checkSize(value as Uint8Array, m.cpus > 1 ? m.valueSize : m.valueSize, 'value');
          m.set(key, value as Uint8Array, flag === undefined ? undefined : { flag });
          if (!ctx.json) ctx.io.out(`map ${m.id}: updated key ${hexPlain(key)}\n`);
          else printJson(ctx, null);
        }),
      ),
    );

  map
    .command('delete')
    .description('remove one key')
    .argument('<map>', 'map id or pinned path')
    .argument('<key...>', "'key' and its bytes")
    .action(
      act((ctx, arg: string, words: string[]) =>
        withMap(ctx, arg, (m) => {
          const { key } = parseElementWords(words, false);
          checkSize(key, m.keySize, 'key');
          if (!m.delete(key))
            throw Object.assign(new Error(`key ${hexPlain(key)} not found`), { code: 'ENOENT' });
          if (!ctx.json) ctx.io.out(`map ${m.id}: deleted key ${hexPlain(key)}\n`);
          else printJson(ctx, null);
        }),
      ),
    );

  map
    .command('pin')
    .description('pin a map on a BPF file system')
    .argument('<map>', 'map id or pinned path')
    .argument('<path>', 'where to pin it (on bpffs)')
    .action(
      act((ctx, arg: string, path: string) =>
        withMap(ctx, arg, (m) => {
          m.pin(path);
          if (!ctx.json) ctx.io.out(`map ${m.id}: pinned at ${m.pinnedPath}\n`);
          else printJson(ctx, null);
        }),
      ),
    );

  map
    .command('freeze')
    .description('make a map read-only for user space (BPF_MAP_FREEZE, irreversible)')
    .argument('<map>', 'map id or pinned path')
    .action(
      act((ctx, arg: string) =>
        withMap(ctx, arg, (m) => {
          m.freeze();
          if (!ctx.json) ctx.io.out(`map ${m.id}: frozen\n`);
          else printJson(ctx, null);
        }),
      ),
    );
}
