// Check 1: the C compiler as oracle. Compiles one C program against the same pinned headers that
// prints sizeof/alignof of every generated layout, offsetof/sizeof of every field (bit-fields
// located by setting all their bits through a byte view), and the value of every constant; then
// compares everything with the generated TypeScript.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PART_NAMES } from '../scripts/lib/generate-lib.mjs';
import { haveHeaders, missingHeadersMessage, pinnedIncludeDir } from '../scripts/lib/paths.mjs';
import * as bpf from './generated/linux/bpf.js';
import * as bpfCommon from './generated/linux/bpf_common.js';
import * as btf from './generated/linux/btf.js';
import * as ifLink from './generated/linux/if_link.js';
import * as ifXdp from './generated/linux/if_xdp.js';
import * as netlink from './generated/linux/netlink.js';
import type { FieldLayout, TypeLayout } from './layout.js';

const MODULES = {
  'linux/bpf.h': bpf,
  'linux/bpf_common.h': bpfCommon,
  'linux/btf.h': btf,
  'linux/if_link.h': ifLink,
  'linux/if_xdp.h': ifXdp,
  'linux/netlink.h': netlink,
};

function isLayout(v: unknown): v is TypeLayout {
  return typeof v === 'object' && v !== null && 'fields' in v && 'kind' in v && 'size' in v;
}

/** How C reaches a layout: the aggregate type, and the member path prefix of a bpf_attr part. */
function cAccess(layout: TypeLayout): { type: string; prefix: string; whole: string | undefined } {
  if (/^(struct|union) /.test(layout.name)) return { type: layout.name, prefix: '', whole: undefined };
  for (const [parent, parts] of Object.entries(PART_NAMES)) {
    for (const [k, name] of Object.entries(parts)) {
      if (name !== layout.name) continue;
      if (k.startsWith('@')) return { type: parent, prefix: '', whole: undefined };
      return { type: parent, prefix: `${k}.`, whole: k };
    }
  }
  throw new Error(`no C name for layout ${layout.name}`);
}

interface Check {
  id: string;
  expected: string;
}

function buildProgram(): { source: string; checks: Check[] } {
  const checks: Check[] = [];
  const lines: string[] = [];
  let n = 0;
  const emit = (
    id: string,
    expected: string | number | bigint,
    cExpr: string,
    fmt = '%llu',
    cast = 'unsigned long long',
  ) => {
    checks.push({ id, expected: String(expected) });
    lines.push(`  printf("%d ${fmt}\\n", ${n++}, (${cast})(${cExpr}));`);
  };
  for (const [header, mod] of Object.entries(MODULES)) {
    for (const [name, value] of Object.entries(mod)) {
      if (typeof value === 'number' || typeof value === 'bigint') {
        // exact value whatever the C type: sign first, then magnitude
        checks.push({
          id: `${header} ${name}`,
          expected: BigInt(value) < 0n ? `-${-BigInt(value)}` : `+${value}`,
        });
        lines.push(
          `  if ((${name}) < 0) printf("%d -%llu\\n", ${n}, (unsigned long long)(-(long long)(${name}))); else printf("%d +%llu\\n", ${n}, (unsigned long long)(${name}));`,
        );
        n++;
        continue;
      }
      if (!isLayout(value)) continue;
      const { type, prefix, whole } = cAccess(value);
      const id = `${header} ${name}`;
      if (whole === undefined && prefix === '' && type === value.name) {
        emit(`${id} sizeof`, value.size, `sizeof(${type})`);
        emit(`${id} alignof`, value.align, `_Alignof(${type})`);
      } else if (whole !== undefined) {
        emit(`${id} sizeof`, value.size, `sizeof(((${type} *)0)->${whole})`);
        emit(`${id} alignof`, value.align, `__alignof__(((${type} *)0)->${whole})`);
      }
      for (const [path, f] of Object.entries(value.fields as Record<string, FieldLayout>)) {
        const cpath = prefix + path;
        if (f.bitWidth === undefined) {
          emit(`${id} ${path} offset`, f.offset, `offsetof(${type}, ${cpath})`);
          // a flexible array member has no sizeof in C (the generator records 0)
          if (f.count !== 0) emit(`${id} ${path} size`, f.size, `sizeof(((${type} *)0)->${cpath})`);
        } else {
          lines.push(
            `  { union { ${type} s; unsigned char b[sizeof(${type})]; } u; memset(&u, 0, sizeof u); u.s.${cpath} = -1;`,
          );
          lines.push(`    bits(${n}, u.b, sizeof u.b); }`);
          checks.push({ id: `${id} ${path} bits`, expected: `${f.bitOffset}+${f.bitWidth}` });
          n++;
        }
      }
    }
  }
  const source = [
    '#include <stdio.h>',
    '#include <stddef.h>',
    '#include <string.h>',
    ...Object.keys(MODULES).map((h) => `#include <${h}>`),
    'static void bits(int n, const unsigned char *b, size_t len) {',
    '  long first = -1, last = -1;',
    '  for (size_t i = 0; i < len * 8; i++) if (b[i / 8] & (1u << (i % 8))) { if (first < 0) first = (long)i; last = (long)i; }',
    '  printf("%d %ld+%ld\\n", n, first, last - first + 1);',
    '}',
    'int main(void) {',
    ...lines,
    '  return 0;',
    '}',
  ].join('\n');
  return { source, checks };
}

// kernel-independent: checked on the host run, skipped in the QEMU kernel matrix to save its budget
describe.skipIf(Boolean(process.env.BPFJS_KERNEL_MATRIX))('C compiler oracle', () => {
  it('agrees with every generated layout, field and constant', () => {
    if (!haveHeaders()) throw new Error(missingHeadersMessage());
    const inc = pinnedIncludeDir();
    const multiarch = execFileSync('cc', ['-print-multiarch'], { encoding: 'utf8' }).trim();
    const { source, checks } = buildProgram();
    const dir = mkdtempSync(join(tmpdir(), 'bpfjs-uapi-oracle-'));
    try {
      writeFileSync(join(dir, 'oracle.c'), source);
      execFileSync(
        'cc',
        [
          '-std=gnu11',
          '-w',
          '-O0',
          `-I${inc}`,
          `-I${join(inc, multiarch)}`,
          '-o',
          join(dir, 'oracle'),
          join(dir, 'oracle.c'),
        ],
        {
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      const out = execFileSync(join(dir, 'oracle'), { encoding: 'utf8', maxBuffer: 64 << 20 });
      const got = new Map<number, string>();
      for (const line of out.trim().split('\n')) {
        const sp = line.indexOf(' ');
        got.set(Number(line.slice(0, sp)), line.slice(sp + 1));
      }
      const mismatches = checks
        .map((c, i) => ({ ...c, actual: got.get(i) }))
        .filter((c) => c.actual !== c.expected)
        .map((c) => `${c.id}: generated ${c.expected}, C says ${c.actual}`);
      expect(mismatches).toEqual([]);
      expect(got.size).toBe(checks.length);
      // not a sample: every constant and field of every module (sanity floor for 7.2: 4149 checks)
      expect(checks.length).toBeGreaterThan(4000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
