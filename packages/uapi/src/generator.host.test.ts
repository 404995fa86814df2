// Unit tests of the generator's C handling on small hand-written headers: preprocessor and
// constant expressions, declarations and layouts, naming, and the file:line error on bad input.

import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Declarations } from '../scripts/lib/cparse.mjs';
import { evalExpr, HeaderError, Preprocessor, tokenize } from '../scripts/lib/cpp.mjs';
import { generate, pascal, printingNames } from '../scripts/lib/generate-lib.mjs';
import {
  HEADERS,
  haveHeaders,
  missingHeadersMessage,
  PACKAGE_DIR,
  pinnedIncludeDir,
} from '../scripts/lib/paths.mjs';

// kernel-independent: checked on the host run, skipped in the QEMU kernel matrix to save its budget
const d = describe.skipIf(Boolean(process.env.BPFJS_KERNEL_MATRIX));

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'bpfjs-uapi-gen-'));
  dirs.push(d);
  return d;
}

/** Preprocesses and parses one header text; returns the declarations and the preprocessor. */
function parse(text: string) {
  const pp = new Preprocessor(
    (p: string) => {
      if (p !== 'linux/t.h') throw new Error(`unexpected read ${p}`);
      return text;
    },
    (p: string) => p === 'linux/t.h',
  );
  pp.include('linux/t.h');
  const d = new Declarations();
  d.parse(pp.out);
  return { d, pp };
}

/** Value of an expression after macro expansion, as `[value, C type]`. */
function value(text: string, defs = ''): [bigint, string] {
  const { d, pp } = parse(`${defs}\n`);
  const toks = pp.expand(tokenize(text, 'expr'));
  const v = evalExpr(
    toks,
    { ident: (t) => d.identValue(t), sizeof: (ts, at) => d.sizeof(ts, at) },
    { file: 'expr', line: 1 },
  );
  return [v.v, v.t];
}

/** Generates one header; returns the TS text. */
function gen(text: string): string {
  const dir = tmp();
  mkdirSync(join(dir, 'linux'));
  writeFileSync(join(dir, 'linux', 't.h'), text);
  const files = generate({
    includeDir: dir,
    version: '9.9',
    packageVersion: '9.9-1',
    headers: ['linux/t.h'],
  });
  return files.get('linux/t.ts') as string;
}

d('constant expressions', () => {
  it('types literals like C (suffixes, hex, octal) and wraps arithmetic to the type', () => {
    expect(value('1U << 31')).toEqual([2n ** 31n, 'u32']);
    expect(value('1ULL << 63')).toEqual([2n ** 63n, 'u64']);
    expect(value('~0U')).toEqual([2n ** 32n - 1n, 'u32']);
    expect(value('~0')).toEqual([-1n, 'i32']);
    expect(value('0xffffffff')).toEqual([2n ** 32n - 1n, 'u32']);
    expect(value('2147483648')).toEqual([2n ** 31n, 'i64']);
    expect(value('010')).toEqual([8n, 'i32']);
    expect(value('-1 + 0U')).toEqual([2n ** 32n - 1n, 'u32']);
    expect(value('(__u64)-1')).toEqual([2n ** 64n - 1n, 'u64']);
    expect(value('(int)0xffffffff')).toEqual([-1n, 'i32']);
    expect(value("'A'")).toEqual([65n, 'i32']);
    expect(value('1 ? 2 : 3UL')).toEqual([2n, 'u64']);
    expect(value('(7 / 2) % 3 - (1 << 4 | 1) ^ 5')).toEqual([
      BigInt((Math.trunc(7 / 2) % 3) - ((1 << 4) | 1)) ^ 5n,
      'i32',
    ]);
  });

  it('follows macros, including function-like ones, __typeof__ and sizeof of parsed structs', () => {
    const defs = [
      '#define A 4U',
      '#define B (A << 2)',
      '#define ALIGN(x, a) (((x) + (__typeof__(x))(a) - 1) & ~((__typeof__(x))(a) - 1))',
      'struct s { __u32 a; __u8 b; };',
    ].join('\n');
    expect(value('B', defs)).toEqual([16n, 'u32']);
    expect(value('ALIGN(sizeof(struct s), A)', defs)).toEqual([8n, 'u64']);
    expect(value('sizeof(struct s) * 2', defs)).toEqual([16n, 'u64']);
  });

  it('rejects what is not an integer constant expression', () => {
    expect(() => value('1 +')).toThrow(/unexpected end/);
    expect(() => value('nope')).toThrow(/unknown identifier 'nope'/);
    expect(() => value('1 << 40')).toThrow(/shift by 40/);
    expect(() => value('1 / 0')).toThrow(/division by zero/);
    expect(() => value('"str"')).toThrow(HeaderError);
  });
});

d('preprocessor', () => {
  it('expands token pasting, named variadics with `, ## args`, and honours #undef and conditionals', () => {
    const { d } = parse(
      [
        '#define MAPPER(FN, ctx...) FN(one, 1, ##ctx) FN(two, 2, ##ctx)',
        '#define ENUM_FN(x, y) E_ ## x = y,',
        'enum e { MAPPER(ENUM_FN) E_MAX };',
        '#undef ENUM_FN',
        '#ifdef ENUM_FN',
        'enum broken {',
        '#else',
        'enum ok { OK_A = 3 };',
        '#endif',
        '#if defined(NOPE) || 0',
        'enum broken2 {',
        '#elif E_TWO_UNDEFINED + 1',
        'enum ok2 { OK_B };',
        '#endif',
      ].join('\n'),
    );
    expect([...d.enumerators.keys()]).toEqual(['E_one', 'E_two', 'E_MAX', 'OK_A', 'OK_B']);
    expect(d.enumerators.get('E_MAX')?.value.v).toBe(3n);
  });

  it('reports an unterminated conditional with file:line', () => {
    expect(() => parse('#ifndef X\nenum a { A };\n')).toThrow(/^linux\/t\.h:2: missing #endif/);
  });
});

d('layouts (x86-64 / aarch64 rules)', () => {
  const layout = (text: string, name: string) => {
    const { d } = parse(text);
    const r = d.records.get(name);
    if (!r) throw new Error(`no ${name}`);
    return r;
  };

  it('aligns members, pads the tail, and lays out unions', () => {
    const s = layout('struct s { __u8 a; __u64 b; __u16 c; };', 'struct s');
    expect(s.members.map((m) => m.offset)).toEqual([0, 8, 16]);
    expect([s.size, s.align]).toEqual([24, 8]);
    const u = layout('union u { __u8 a[5]; __u32 b; };', 'union u');
    expect([u.size, u.align]).toEqual([8, 4]);
  });

  it('packs bit-fields into units of their type and moves one that would cross a unit', () => {
    const s = layout('struct s { __u8 a:4, b:4; __u32 c:30; __u32 d:4; __u64 :0; __u8 e; };', 'struct s');
    // checked with gcc on x86-64: c moves to bit 32, d to bit 64, e after the :0 at byte 16
    expect(s.members.map((m) => m.bitOffset ?? m.offset * 8)).toEqual([0, 4, 32, 64, 128, 128]);
    expect([s.size, s.align]).toEqual([20, 4]);
    // an unnamed bit-field does not raise the alignment
    const t = layout('struct t { __u8 a; __u64 :8; };', 'struct t');
    expect([t.size, t.align]).toEqual([2, 1]);
  });

  it('honours aligned/packed attributes, __aligned_u64, and the __bpf_md_ptr union', () => {
    const text = [
      '#define __bpf_md_ptr(type, name) union { type name; __u64 :64; } __attribute__((aligned(8)))',
      'struct md { __u32 len; __bpf_md_ptr(struct md *, self); };',
      'struct a { __u32 x; __aligned_u64 y; __u32 z __attribute__((aligned(16))); };',
      'struct p { __u8 a; __u32 b; } __attribute__((packed));',
    ].join('\n');
    const md = layout(text, 'struct md');
    expect([md.members[1]?.offset, md.size, md.align]).toEqual([8, 16, 8]);
    const a = layout(text, 'struct a');
    expect([a.members.map((m) => m.offset), a.size, a.align]).toEqual([[0, 8, 16], 32, 16]);
    const p = layout(text, 'struct p');
    expect([p.members[1]?.offset, p.size, p.align]).toEqual([1, 5, 1]);
  });

  it('handles anonymous members, nested named types, arrays and flexible arrays', () => {
    const text =
      'struct o { __u32 n; union { __u32 a; __u64 b; }; struct in { __u16 x[3]; } i[2]; __u8 tail[]; };';
    const o = layout(text, 'struct o');
    expect(o.members.map((m) => m.offset)).toEqual([0, 8, 16, 28]);
    expect(o.size).toBe(32);
    expect(layout(text, 'struct in').size).toBe(6);
  });
});

d('generated output', () => {
  it('emits constants, enums with printing names, flat layouts and types', () => {
    const ts = gen(
      [
        '#define T_FLAG (1U << 3) /* a flag */',
        '#define T_STR "not a number"',
        '#define T_FN(x) ((x) + 1)',
        '#define T_BIG 0xffffffffffffffffULL',
        'enum t_kind { T_KIND_A, T_KIND_B = 5, T_KIND_B_ALIAS = T_KIND_B, __T_KIND_MAX };',
        'struct t_outer { __u32 a; struct { __u32 x; } named; union { __u16 p; __u16 q; }; __u8 bits:3; };',
      ].join('\n'),
    );
    expect(ts.split('\n')[0]).toBe(
      '// Code generated by @bpfjs/uapi/scripts/generate from Linux 9.9 UAPI headers; DO NOT EDIT.',
    );
    expect(ts).toMatch(/sha256 [0-9a-f]{64}/);
    expect(ts).toContain('/** a flag */\nexport const T_FLAG = 8;');
    expect(ts).toContain('export const T_BIG = 18446744073709551615n;');
    expect(ts).not.toContain('T_STR');
    expect(ts).not.toContain('T_FN');
    expect(ts).toContain('export const T_KIND_B_ALIAS = 5;');
    expect(ts).toContain(
      "export const t_kind_name: Readonly<Record<number, string>> = {\n  0: 'a',\n  5: 'b',\n};",
    );
    expect(ts).toContain('export const TOuter = {');
    expect(ts).toContain("    'named.x': { offset: 4, size: 4, kind: 'u32' },");
    expect(ts).toContain(
      "    p: { offset: 8, size: 2, kind: 'u16' },\n    q: { offset: 8, size: 2, kind: 'u16' },",
    );
    expect(ts).toContain("    bits: { offset: 10, size: 1, kind: 'u8', bitOffset: 80, bitWidth: 3 },");
    expect(ts).toContain('export type TOuterField = keyof (typeof TOuter)');
  });

  it('is deterministic', () => {
    const text = 'enum e { A, B };\nstruct s { __u32 a; };\n#define X 1\n';
    expect(gen(text)).toBe(gen(text));
  });

  it('names C tags in PascalCase and chooses printing names by common prefix', () => {
    expect(pascal('bpf_link_info')).toBe('BpfLinkInfo');
    expect(pascal('__sk_buff')).toBe('SkBuff');
    const names = printingNames({
      k: 'enum',
      tag: 'bpf_map_type',
      values: [
        { name: 'BPF_MAP_TYPE_HASH', value: { v: 1n, t: 'i32' }, file: '', line: 0 },
        { name: 'BPF_MAP_TYPE_CGROUP_STORAGE_DEPRECATED', value: { v: 19n, t: 'i32' }, file: '', line: 0 },
        { name: 'BPF_MAP_TYPE_CGROUP_STORAGE', value: { v: 19n, t: 'i32' }, file: '', line: 0 },
      ],
      size: 4,
      align: 4,
      signed: false,
      file: '',
      line: 0,
      complete: true,
    });
    expect([...names]).toEqual([
      [1n, 'hash'],
      [19n, 'cgroup_storage'],
    ]);
  });

  it('stops at a header it cannot read, with file:line and what it could not read', () => {
    expect(() => gen('enum ok { A };\n\nstruct bad {\n  __u32 a b;\n};\n')).toThrow(
      /^linux\/t\.h:4: expected ',' or ';' after member 'a', found 'b'$/,
    );
    expect(() => gen('struct s { mystery_t a; };')).toThrow(/^linux\/t\.h:1: unknown type name 'mystery_t'$/);
    expect(() => gen('#define X (1 +)\n')).toThrow(/^linux\/t\.h:1: cannot evaluate #define X: /);
    expect(() => gen('int f(void);\n')).toThrow(/^linux\/t\.h:1: expected a struct, union, enum or typedef/);
    expect(() => gen('struct s { int (*fp)(void); };')).toThrow(/^linux\/t\.h:1: function pointers/);
  });
});

describe.skipIf(Boolean(process.env.BPFJS_KERNEL_MATRIX) || !haveHeaders())(
  'the generate CLI on the pinned headers',
  () => {
    it('writes nothing when a header cannot be parsed (no partial output)', () => {
      const inc = tmp();
      const out = tmp();
      mkdirSync(join(inc, 'linux'));
      for (const h of [...HEADERS, 'linux/const.h']) copyFileSync(join(pinnedIncludeDir(), h), join(inc, h));
      // the last header processed is broken: every earlier one parsed fine, still nothing is written
      writeFileSync(
        join(inc, 'linux/if_xdp.h'),
        '#include <linux/types.h>\nstruct sockaddr_xdp {\n  __u16 sxdp_family\n};\n',
      );
      const r = spawnSync(
        process.execPath,
        [join(PACKAGE_DIR, 'scripts/generate.mjs'), '--include', inc, '--out', out],
        { encoding: 'utf8' },
      );
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(
        /^generate: linux\/if_xdp\.h:4: expected ',' or ';' after member 'sxdp_family', found '}'/,
      );
      expect(readdirSync(out)).toEqual([]);
    });
  },
);

d('headers missing', () => {
  it('tells how to get them', () => {
    expect(missingHeadersMessage()).toMatch(/run `pnpm --filter @bpfjs\/uapi sync`/);
    // the CLI says the same when pointed at an empty cache
    const home = tmp();
    const r = spawnSync(
      process.execPath,
      [join(PACKAGE_DIR, 'scripts/generate.mjs'), '--out', join(home, 'out')],
      {
        encoding: 'utf8',
        env: { ...process.env, XDG_CACHE_HOME: home },
      },
    );
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/run `pnpm --filter @bpfjs\/uapi sync`/);
    expect(existsSync(join(home, 'out'))).toBe(false);
  });
});
