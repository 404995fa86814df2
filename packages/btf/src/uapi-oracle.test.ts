// @bpfjs/uapi's check 2 (it lives here because it needs the BTF parser, a layer above uapi): the
// running kernel as oracle. Reads /sys/kernel/btf/vmlinux with the BTF parser and
// compares `union bpf_attr` (and its per-command parts), `struct bpf_link_info`,
// `struct bpf_prog_info`, every other generated layout the kernel also has, and the enums, member
// by member wherever both sides have the member. Members one side lacks are reported (the pinned
// headers are usually newer than the running kernel), never silently skipped.

import { existsSync } from 'node:fs';
import { release } from 'node:os';
import type { FieldLayout, TypeLayout } from '@bpfjs/uapi';
import { UAPI_VERSION } from '@bpfjs/uapi';
import * as bpf from '@bpfjs/uapi/linux/bpf';
import * as bpfCommon from '@bpfjs/uapi/linux/bpf_common';
import * as btfMod from '@bpfjs/uapi/linux/btf';
import {
  BTF_KIND_ENUM,
  BTF_KIND_ENUM64,
  BTF_KIND_INT,
  BTF_KIND_STRUCT,
  BTF_KIND_UNION,
} from '@bpfjs/uapi/linux/btf';
import * as ifLink from '@bpfjs/uapi/linux/if_link';
import * as ifXdp from '@bpfjs/uapi/linux/if_xdp';
import * as netlink from '@bpfjs/uapi/linux/netlink';
import { describe, expect, it } from 'vitest';
import { Btf, KERNEL_BTF_PATH } from './btf.js';

// the generator's table of the per-command parts of union bpf_attr (uapi's build script, not its
// API, so it is read from the sibling package's source)
const { PART_NAMES } = (await import(
  new URL('../../uapi/scripts/lib/generate-lib.mjs', import.meta.url).href
)) as { PART_NAMES: Record<string, Record<string, string>> };

const MODULES = [bpf, bpfCommon, btfMod, ifLink, ifXdp, netlink] as Record<string, unknown>[];

interface Flat {
  offset?: number;
  size: number;
  bitOffset?: number;
  bitWidth?: number;
}

/** Flattens a BTF struct/union with the generator's rules (anonymous members transparent). */
function flatten(b: Btf, id: number, baseBits: number, prefix: string, out: Map<string, Flat>): void {
  const t = b.type(b.resolve(id));
  for (const m of t.members ?? []) {
    const bits = baseBits + m.bitOffset;
    const rid = b.resolve(m.type);
    const rt = b.type(rid);
    let width = m.bitfieldSize;
    let bitOff = bits;
    if (width === 0 && rt.kind === BTF_KIND_INT && rt.int && rt.int.bits !== (rt.size ?? 0) * 8) {
      width = rt.int.bits; // bit-field encoded in the int type (kind_flag 0)
      bitOff += rt.int.offset;
    }
    const aggregate = rt.kind === BTF_KIND_STRUCT || rt.kind === BTF_KIND_UNION;
    if (m.name === '') {
      if (aggregate && width === 0) flatten(b, rid, bits, prefix, out);
      continue;
    }
    const path = prefix + m.name;
    if (width > 0) out.set(path, { size: b.sizeOf(rid), bitOffset: bitOff, bitWidth: width });
    else {
      out.set(path, { offset: bits / 8, size: b.sizeOf(rid) });
      if (aggregate) flatten(b, rid, bits, `${path}.`, out);
    }
  }
}

interface Diff {
  mismatches: string[];
  onlyGenerated: string[];
  onlyKernel: string[];
  common: number;
}

/**
 * UAPI changes where an older kernel's member really differs from the pinned headers (ABI
 * compatible, so not a generator error): reported, not failed, on kernels older than `before`.
 */
const KNOWN_CHANGES: Record<string, { before: string; why: string }> = {
  'struct bpf_sk_lookup.remote_port': { before: '5.19', why: '__u32 became __be16 + 16 bits padding' },
};

function compareLayout(
  layout: TypeLayout,
  kernel: Map<string, Flat>,
  kernelSize: number,
  report: Set<string>,
): Diff {
  const d: Diff = { mismatches: [], onlyGenerated: [], onlyKernel: [], common: 0 };
  const fields = layout.fields as Record<string, FieldLayout>;
  for (const path of kernel.keys()) if (!(path in fields)) d.onlyKernel.push(path);
  for (const path of Object.keys(fields)) if (!kernel.has(path)) d.onlyGenerated.push(path);
  // an aggregate member grows when a kernel adds members to it: its size is comparable only when
  // both sides know the same members inside it
  const sameInside = (path: string) =>
    !d.onlyGenerated.some((p) => p.startsWith(`${path}.`)) &&
    !d.onlyKernel.some((p) => p.startsWith(`${path}.`));
  for (const [path, f] of Object.entries(fields)) {
    const k = kernel.get(path);
    if (!k) continue;
    d.common++;
    const mine: Flat =
      f.bitWidth !== undefined
        ? { size: f.size, bitOffset: f.bitOffset as number, bitWidth: f.bitWidth }
        : { offset: f.offset, size: f.size };
    const aggregate = f.kind === 'struct' || f.kind === 'union';
    if (aggregate && f.count === undefined && !sameInside(path)) {
      mine.size = k.size;
    }
    if (JSON.stringify(mine) === JSON.stringify(k)) continue;
    const msg = `${layout.name}.${path}: generated ${JSON.stringify(mine)}, kernel ${JSON.stringify(k)}`;
    const known = KNOWN_CHANGES[`${layout.name}.${path}`];
    if (known && versionLess(release(), known.before)) report.add(`${msg} (known UAPI change: ${known.why})`);
    else d.mismatches.push(msg);
  }
  // sizes are comparable only when both sides know the same members
  if (d.onlyGenerated.length === 0 && d.onlyKernel.length === 0 && layout.size !== kernelSize) {
    d.mismatches.push(`${layout.name}: size ${layout.size}, kernel ${kernelSize}`);
  }
  return d;
}

/** `a < b` comparing major.minor of two version strings. */
function versionLess(a: string, b: string): boolean {
  const v = (s: string) =>
    (/^(\d+)\.(\d+)/.exec(s) ?? ['', '0', '0']).slice(1).map(Number) as [number, number];
  const [am, an] = v(a);
  const [bm, bn] = v(b);
  return am < bm || (am === bm && an < bn);
}

/** Enum sentinels (`__MAX_BPF_CMD`, `NLMSGERR_ATTR_MAX`, `MAX_BPF_LINK_TYPE`) move with every release. */
const isSentinel = (name: string) => /(^|_)MAX(_|$)/.test(name);

function isLayout(v: unknown): v is TypeLayout {
  return typeof v === 'object' && v !== null && 'fields' in v && 'kind' in v && 'size' in v;
}

const haveBtf = existsSync(KERNEL_BTF_PATH);

/** Whether the running kernel is not newer than the pinned headers (then it lacks nothing they have). */
function kernelNotNewer(): boolean {
  const v = (s: string) =>
    (/^(\d+)\.(\d+)/.exec(s) ?? ['', '0', '0']).slice(1).map(Number) as [number, number];
  const [km, kn] = v(release());
  const [hm, hn] = v(UAPI_VERSION);
  return km < hm || (km === hm && kn <= hn);
}

// with BPFJS_REQUIRE_KERNEL (CI) a kernel without BTF fails here instead of skipping
describe.skipIf(!haveBtf && !process.env.BPFJS_REQUIRE_KERNEL)('kernel BTF oracle', () => {
  const b = Btf.loadKernel();
  const report = new Set<string>();

  const kernelType = (cname: string): number | undefined => {
    const [kw, tag] = cname.split(' ') as [string, string];
    return b.findByName(tag, kw === 'union' ? BTF_KIND_UNION : BTF_KIND_STRUCT)[0];
  };

  const check = (layout: TypeLayout, id: number, baseBits = 0) => {
    const k = new Map<string, Flat>();
    flatten(b, id, baseBits, '', k);
    const d = compareLayout(layout, k, b.sizeOf(id), report);
    if (d.onlyGenerated.length) report.add(`${layout.name}: kernel lacks ${d.onlyGenerated.join(', ')}`);
    if (d.onlyKernel.length) report.add(`${layout.name}: headers lack ${d.onlyKernel.join(', ')}`);
    return d;
  };

  it.each([
    ['union bpf_attr', bpf.BpfAttr],
    ['struct bpf_link_info', bpf.BpfLinkInfo],
    ['struct bpf_prog_info', bpf.BpfProgInfo],
    ['struct bpf_map_info', bpf.BpfMapInfo],
    ['struct bpf_btf_info', bpf.BpfBtfInfo],
    ['struct bpf_insn', bpf.BpfInsn],
  ] as const)('%s matches the kernel member by member', (cname, layout) => {
    const id = kernelType(cname);
    expect(id, `${cname} in kernel BTF`).toBeDefined();
    const d = check(layout, id as number);
    expect(d.mismatches).toEqual([]);
    expect(d.common).toBeGreaterThanOrEqual(Math.min(3, Object.keys(layout.fields).length));
    // a kernel no newer than the headers has nothing the headers lack
    if (kernelNotNewer()) expect(d.onlyKernel).toEqual([]);
  });

  it('the per-command parts of union bpf_attr match the kernel', () => {
    const attr = b.type(kernelType('union bpf_attr') as number);
    const parts = PART_NAMES['union bpf_attr'] as Record<string, string>;
    const exports = bpf as unknown as Record<string, TypeLayout>;
    let checked = 0;
    const mismatches: string[] = [];
    for (const m of attr.members ?? []) {
      const t = b.type(b.resolve(m.type));
      if (t.name !== '' || (t.kind !== BTF_KIND_STRUCT && t.kind !== BTF_KIND_UNION)) continue;
      let key = m.name;
      if (key === '') {
        const inner = new Map<string, Flat>();
        flatten(b, t.id, 0, '', inner);
        key = `@${inner.keys().next().value}`;
      }
      const part = parts[key];
      if (!part) {
        report.add(`union bpf_attr: kernel part ${key} has no generated counterpart`);
        continue;
      }
      const d = check(exports[part] as TypeLayout, t.id, m.bitOffset);
      mismatches.push(...d.mismatches);
      checked++;
    }
    expect(mismatches).toEqual([]);
    expect(checked).toBeGreaterThan(15);
  });

  it('every other generated layout the kernel also has matches it', () => {
    const mismatches: string[] = [];
    const absent: string[] = [];
    let compared = 0;
    for (const mod of MODULES) {
      for (const v of Object.values(mod)) {
        if (!isLayout(v) || !/^(struct|union) /.test(v.name)) continue;
        const id = kernelType(v.name);
        if (id === undefined) {
          absent.push(v.name);
          continue;
        }
        mismatches.push(...check(v, id).mismatches);
        compared++;
      }
    }
    if (absent.length) report.add(`not in kernel BTF: ${absent.join(', ')}`);
    expect(mismatches).toEqual([]);
    expect(compared).toBeGreaterThan(50);
  });

  it('the enums match the kernel enumerator by enumerator', () => {
    const mismatches: string[] = [];
    let compared = 0;
    for (const mod of MODULES) {
      for (const [name, v] of Object.entries(mod)) {
        if (!(`${name}_name` in mod) || typeof v !== 'object' || v === null) continue;
        const ids = [...b.findByName(name, BTF_KIND_ENUM), ...b.findByName(name, BTF_KIND_ENUM64)];
        if (ids.length === 0) {
          report.add(`enum ${name}: not in kernel BTF`);
          continue;
        }
        const kernel = new Map((b.type(ids[0] as number).values ?? []).map((e) => [e.name, BigInt(e.value)]));
        const mine = v as Record<string, number | bigint>;
        const lacks = Object.keys(mine).filter((k) => !kernel.has(k));
        const extra = [...kernel.keys()].filter((k) => !(k in mine) && !isSentinel(k));
        if (lacks.length) report.add(`enum ${name}: kernel lacks ${lacks.join(', ')}`);
        if (extra.length) report.add(`enum ${name}: headers lack ${extra.join(', ')}`);
        if (extra.length && kernelNotNewer())
          mismatches.push(`enum ${name}: the older kernel has ${extra.join(', ')}`);
        for (const [k, val] of Object.entries(mine)) {
          const kv = kernel.get(k);
          // `__MAX_*` sentinels move with every new enumerator: version skew, not a mismatch
          if (kv !== undefined && kv !== BigInt(val) && isSentinel(k)) {
            report.add(`enum ${name}: ${k} is ${val} in the headers, ${kv} in the kernel`);
          } else if (kv !== undefined && kv !== BigInt(val))
            mismatches.push(`${name}.${k}: generated ${val}, kernel ${kv}`);
          if (kv !== undefined) compared++;
        }
      }
    }
    expect(mismatches).toEqual([]);
    expect(compared).toBeGreaterThan(200);
    for (const e of ['bpf_cmd', 'bpf_map_type', 'bpf_prog_type', 'bpf_attach_type', 'bpf_link_type']) {
      expect(b.findByName(e, BTF_KIND_ENUM).length, e).toBeGreaterThan(0);
    }
  });

  it('reports what one side lacks', () => {
    // informational: printed so a reader of the test log sees the version skew
    console.info(`kernel BTF vs pinned headers:\n  ${[...report].join('\n  ') || 'no differences'}`);
    expect([...report].every((r) => typeof r === 'string')).toBe(true);
  });
});
