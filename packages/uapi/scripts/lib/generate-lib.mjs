// The generator proper: preprocess + parse the pinned headers, evaluate the integer #defines, and
// print one TypeScript module per header. Pure: headers in, file contents out (no writes here).

import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Declarations } from './cparse.mjs';
import { evalExpr, HeaderError, Preprocessor } from './cpp.mjs';
import { HEADERS } from './paths.mjs';

/** @typedef {import('./cpp.mjs').CValue} CValue */
/** @typedef {import('./cparse.mjs').Record_} Record_ */
/** @typedef {import('./cparse.mjs').Enum_} Enum_ */
/** @typedef {import('./cparse.mjs').CType} CType */

/** Headers we read only for their macros (the kernel's `_AC`, `_BITUL`, ...). */
const MACRO_ONLY = new Set(['linux/const.h']);

/**
 * Names of the anonymous structs of `union bpf_attr`: a named member by its member name, an
 * anonymous member by its first field (`@field`). A new anonymous part without an entry stops
 * the generator.
 * @type {Record<string, Record<string, string>>}
 */
export const PART_NAMES = {
  'union bpf_attr': {
    '@map_type': 'MapCreateAttr',
    '@map_fd': 'MapElemAttr',
    batch: 'MapBatchAttr',
    '@prog_type': 'ProgLoadAttr',
    '@pathname': 'ObjPinAttr',
    '@target_fd': 'ProgAttachAttr',
    test: 'ProgTestRunAttr',
    '@start_id': 'GetIdAttr',
    info: 'InfoAttr',
    query: 'ProgQueryAttr',
    raw_tracepoint: 'RawTracepointOpenAttr',
    '@btf': 'BtfLoadAttr',
    task_fd_query: 'TaskFdQueryAttr',
    link_create: 'LinkCreateAttr',
    link_update: 'LinkUpdateAttr',
    link_detach: 'LinkDetachAttr',
    enable_stats: 'EnableStatsAttr',
    iter_create: 'IterCreateAttr',
    prog_bind_map: 'ProgBindMapAttr',
    token_create: 'TokenCreateAttr',
    prog_stream_read: 'ProgStreamReadAttr',
    prog_assoc_struct_ops: 'ProgAssocStructOpsAttr',
  },
};

/**
 * Printing names (value -> the short name bpftool prints): the enumerator without the enum's
 * common prefix, lowercased. Where several enumerators share a value, the first one names it,
 * unless listed here (libbpf's map_type_name prints the non-deprecated alias). Checked against
 * libbpf's prog_type_name/attach_type_name/link_type_name/map_type_name tables.
 * @type {Record<string, string[]>}
 */
export const PREFERRED_ALIASES = {
  bpf_map_type: ['BPF_MAP_TYPE_CGROUP_STORAGE', 'BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE'],
};

/** Explicit printing names where prefix stripping differs from libbpf/bpftool (none today). */
export const NAME_OVERRIDES = /** @type {Record<string, Record<string, string>>} */ ({});

/** TS export name of a tagged C type: PascalCase of the tag. */
export function pascal(/** @type {string} */ tag) {
  return tag
    .replace(/^_+/, '')
    .split('_')
    .filter(Boolean)
    .map((w) => w[0].toUpperCase() + w.slice(1))
    .join('');
}

/**
 * @typedef {{ name: string, value: CValue, file: string, line: number, doc?: string }} Constant
 * @typedef {{ includeDir: string, version: string, packageVersion: string, headers?: string[] }} GenerateOptions
 */

/**
 * Parses the headers and returns the generated files (`linux/bpf.ts` -> contents, plus
 * `version.ts`). Throws HeaderError (file:line) on anything it cannot read.
 * @param {GenerateOptions} opts
 * @returns {Map<string, string>}
 */
export function generate(opts) {
  const headers = opts.headers ?? HEADERS;
  const ours = new Set(headers);
  /** @type {Map<string, string>} */
  const sources = new Map();
  const read = (/** @type {string} */ p) => {
    const full = join(opts.includeDir, p);
    if (!existsSync(full)) throw new HeaderError(p, 0, `header not found in ${opts.includeDir}`);
    const text = readFileSync(full, 'utf8');
    sources.set(p, text);
    return text;
  };
  const pp = new Preprocessor(read, (p) => ours.has(p) || MACRO_ONLY.has(p));
  for (const h of headers) pp.include(h);
  const decls = new Declarations();
  decls.parse(pp.out);

  // integer #defines of our headers
  /** @type {Constant[]} */
  const constants = [];
  /** @type {Map<string, Constant>} */
  const byName = new Map();
  for (const m of pp.defines) {
    if (!ours.has(m.file) || m.body.length === 0) continue;
    if (decls.enumerators.has(m.name)) continue; // `#define IFLA_COST IFLA_COST`
    const expanded = pp.expand([{ k: 'id', v: m.name, file: m.file, line: m.line, nl: false, sp: false }]);
    if (expanded.some((t) => t.k === 'str')) continue; // a string, not an integer
    if (expanded.some((t) => t.k === 'punct' && (t.v === '{' || t.v === ';'))) {
      throw new HeaderError(m.file, m.line, `cannot read #define ${m.name}: not an expression`);
    }
    let value;
    try {
      value = evalConst(expanded, decls, m.file, m.line);
    } catch (e) {
      if (e instanceof HeaderError)
        throw new HeaderError(m.file, m.line, `cannot evaluate #define ${m.name}: ${e.what}`);
      throw e;
    }
    const prev = byName.get(m.name);
    if (prev) {
      if (prev.value.v !== value.v)
        throw new HeaderError(m.file, m.line, `#define ${m.name} redefined with another value`);
      continue;
    }
    /** @type {Constant} */
    const c = { name: m.name, value, file: m.file, line: m.line };
    if (m.doc !== undefined) c.doc = m.doc;
    constants.push(c);
    byName.set(m.name, c);
  }

  /** @type {Map<string, string>} */
  const files = new Map();
  /** @type {Map<string, string>} export name -> header, across all modules */
  const exported = new Map();
  const claim = (/** @type {string} */ name, /** @type {string} */ file, /** @type {number} */ line) => {
    const prev = exported.get(name);
    if (prev) throw new HeaderError(file, line, `export name ${name} is already used (by ${prev})`);
    exported.set(name, `${file}:${line}`);
  };
  /** @type {Record<string, string>} */
  const shas = {};
  for (const h of headers) {
    const text = sources.get(h) ?? read(h);
    shas[h] = createHash('sha256').update(text).digest('hex');
    files.set(h.replace(/\.h$/, '.ts'), emitHeader(h, shas[h], opts, decls, constants, claim));
  }
  files.set('version.ts', emitVersion(opts, shas));
  return files;
}

/**
 * @param {import('./cpp.mjs').Token[]} toks
 * @param {Declarations} decls
 * @param {string} file
 * @param {number} line
 */
function evalConst(toks, decls, file, line) {
  return evalExpr(
    toks,
    { ident: (t) => decls.identValue(t), sizeof: (ts, at) => decls.sizeof(ts, at) },
    { file, line },
  );
}

/** @param {CValue} c */
function literal(c) {
  const v = c.v;
  if (v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)) return String(v);
  return `${v}n`;
}

/** A short header comment as TSDoc, or nothing. @param {string | undefined} doc @param {string} indent */
function tsdoc(doc, indent = '') {
  if (!doc) return '';
  const text = doc.replace(/\*\//g, '*\\/').replace(/\s+/g, ' ').trim();
  if (!text || text.length > 200 || /^[-=*\s]*$/.test(text)) return '';
  return `${indent}/** ${text} */\n`;
}

/** @param {string} s */
const q = (s) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
/** @param {string} k */
const key = (k) => (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(k) ? k : q(k));

/**
 * @param {Enum_} e
 * @returns {Map<bigint, string>}
 */
export function printingNames(e) {
  const names = e.values.filter((x) => !x.name.startsWith('__') && !/^MAX_/.test(x.name)).map((x) => x.name);
  let prefix = '';
  if (names.length > 1) {
    prefix = names.reduce((a, b) => {
      let i = 0;
      while (i < a.length && a[i] === b[i]) i++;
      return a.slice(0, i);
    });
    prefix = prefix.slice(0, prefix.lastIndexOf('_') + 1);
    while (prefix && names.some((n) => n.length === prefix.length)) {
      prefix = prefix.slice(0, prefix.slice(0, -1).lastIndexOf('_') + 1);
    }
  }
  const preferred = new Set(PREFERRED_ALIASES[e.tag ?? ''] ?? []);
  const overrides = NAME_OVERRIDES[e.tag ?? ''] ?? {};
  /** @type {Map<bigint, string>} */
  const out = new Map();
  /** @type {Map<bigint, string>} */
  const chosen = new Map();
  for (const x of e.values) {
    if (!names.includes(x.name)) continue;
    const v = x.value.v;
    if (chosen.has(v) && !preferred.has(x.name)) continue;
    chosen.set(v, x.name);
    out.set(v, overrides[x.name] ?? x.name.slice(prefix.length).toLowerCase());
  }
  return new Map([...out].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
}

/**
 * Flattens a record's members into access paths (anonymous members transparent, named nested
 * aggregates dotted, each aggregate with its own entry).
 * @param {Record_} rec
 * @param {number} baseBits bit offset of `rec` in the exported type
 * @param {string} prefix
 * @param {[string, string][]} out [key, TS object text]
 */
function flatten(rec, baseBits, prefix, out) {
  for (const m of rec.members) {
    const bits = baseBits + (m.bitWidth !== undefined ? 0 : m.offset * 8);
    const t = m.type;
    if (m.name === null) {
      if (m.bitWidth !== undefined) continue; // unnamed bit-field: padding
      if (t.k !== 'struct' && t.k !== 'union')
        throw new HeaderError(m.file, m.line, 'unnamed non-aggregate member');
      flatten(t, bits, prefix, out);
      continue;
    }
    const path = prefix + m.name;
    if (out.some(([k]) => k === path)) throw new HeaderError(m.file, m.line, `duplicate member path ${path}`);
    out.push([path, fieldText(m, baseBits)]);
    if ((t.k === 'struct' || t.k === 'union') && m.bitWidth === undefined) flatten(t, bits, `${path}.`, out);
  }
}

/**
 * @param {import('./cparse.mjs').Member} m
 * @param {number} baseBits
 */
function fieldText(m, baseBits) {
  let t = m.type;
  /** @type {number | undefined} */
  let count;
  if (t.k === 'array') {
    count = t.count;
    let el = t.of;
    while (el.k === 'array') {
      count *= el.count;
      el = el.of;
    }
    t = el;
  }
  const parts = [];
  if (m.bitWidth !== undefined) {
    const bitOffset = baseBits + /** @type {number} */ (m.bitOffset);
    const unit = t.size;
    parts.push(`offset: ${Math.floor(bitOffset / (unit * 8)) * unit}`, `size: ${unit}`);
    parts.push(`kind: ${q(kindOf(t))}`);
    parts.push(`bitOffset: ${bitOffset}`, `bitWidth: ${m.bitWidth}`);
  } else {
    parts.push(`offset: ${(baseBits >> 3) + m.offset}`, `size: ${m.type.size}`, `kind: ${q(kindOf(t))}`);
    if (count !== undefined) parts.push(`count: ${count}`);
  }
  if ((t.k === 'struct' || t.k === 'union' || t.k === 'enum') && t.tag)
    parts.push(`type: ${q(`${t.k} ${t.tag}`)}`);
  return `{ ${parts.join(', ')} }`;
}

/** @param {CType} t */
function kindOf(t) {
  if (t.k === 'int') return t.kind;
  if (t.k === 'ptr') return 'ptr';
  if (t.k === 'array') return kindOf(t.of);
  return t.k;
}

/**
 * @param {string} name export name
 * @param {string} cname
 * @param {Record_} rec
 * @param {string | undefined} doc
 */
function emitLayout(name, cname, rec, doc) {
  /** @type {[string, string][]} */
  const fields = [];
  flatten(rec, 0, '', fields);
  let s = tsdoc(doc) || `/** Layout of \`${cname}\`. */\n`;
  s += `export const ${name} = {\n  name: ${q(cname)},\n  kind: ${q(rec.k)},\n  size: ${rec.size},\n  align: ${rec.align},\n  fields: {\n`;
  for (const [k, v] of fields) s += `    ${key(k)}: ${v},\n`;
  s += '  },\n} as const satisfies TypeLayout;\n';
  s += `/** The field paths of {@link ${name}}. */\nexport type ${name}Field = keyof (typeof ${name})['fields'];\n`;
  s += `/** Values of the scalar fields of {@link ${name}} (64-bit fields as bigint). */\nexport type ${name}Values = ScalarValues<typeof ${name}>;\n`;
  return s;
}

/**
 * @param {string} header
 * @param {string} sha
 * @param {GenerateOptions} opts
 * @param {Declarations} decls
 * @param {Constant[]} constants
 * @param {(name: string, file: string, line: number) => void} claim
 */
function emitHeader(header, sha, opts, decls, constants, claim) {
  /** @type {{ line: number, order: number, text: string }[]} */
  const items = [];
  let order = 0;
  for (const c of constants) {
    if (c.file !== header) continue;
    claim(c.name, c.file, c.line);
    items.push({
      line: c.line,
      order: order++,
      text: `${tsdoc(c.doc) || `/** \`#define ${c.name}\` of \`<${header}>\`. */\n`}export const ${c.name} = ${literal(c.value)};\n`,
    });
  }
  let usesLayout = false;
  for (const d of decls.defined) {
    if (d.file !== header) continue;
    if (d.k === 'enum') {
      let s = '';
      for (const x of d.values) {
        claim(x.name, x.file, x.line);
        const of = d.tag ? `\`enum ${d.tag}\`` : `an anonymous enum of \`<${header}>\``;
        s += `${tsdoc(x.doc) || `/** Enumerator of ${of}. */\n`}export const ${x.name} = ${literal(x.value)};\n`;
      }
      if (d.tag) {
        claim(d.tag, d.file, d.line);
        claim(`${d.tag}_name`, d.file, d.line);
        s += `\n${tsdoc(d.doc) || `/** The enumerators of \`enum ${d.tag}\`. */\n`}export const ${d.tag} = {\n`;
        for (const x of d.values) s += `  ${x.name}: ${literal(x.value)},\n`;
        s += `} as const;\n/** A value of \`enum ${d.tag}\`. */\nexport type ${d.tag} = (typeof ${d.tag})[keyof typeof ${d.tag}];\n`;
        s += `/** \`enum ${d.tag}\` value -> printing name (as bpftool prints it). */\n`;
        s += `export const ${d.tag}_name: Readonly<Record<number, string>> = {\n`;
        for (const [v, n] of printingNames(d)) s += `  ${v < 0n ? `[${v}]` : String(v)}: ${q(n)},\n`;
        s += '};\n';
      }
      items.push({ line: d.line, order: order++, text: s });
      continue;
    }
    if (!d.tag) continue; // anonymous: part of its parent's layout
    const cname = `${d.k} ${d.tag}`;
    const name = pascal(d.tag);
    claim(name, d.file, d.line);
    claim(`${name}Field`, d.file, d.line);
    claim(`${name}Values`, d.file, d.line);
    usesLayout = true;
    let s = emitLayout(name, cname, d, d.doc);
    const parts = PART_NAMES[cname];
    if (parts) {
      const used = new Set();
      for (const m of d.members) {
        const t = m.type;
        if ((t.k !== 'struct' && t.k !== 'union') || t.tag) continue;
        const first = m.name ?? `@${firstLeaf(t) ?? ''}`;
        const part = parts[first];
        if (!part)
          throw new HeaderError(
            m.file,
            m.line,
            `anonymous ${t.k} in ${cname} (${m.name ? `member ${m.name}` : `first field ${first.slice(1)}`}) has no name in PART_NAMES`,
          );
        used.add(first);
        claim(part, m.file, m.line);
        claim(`${part}Field`, m.file, m.line);
        claim(`${part}Values`, m.file, m.line);
        const hdoc = m.doc ?? t.doc;
        const where = m.name ? `member \`${m.name}\`` : 'an anonymous member';
        const pdoc = `Part of \`${cname}\` (${where}; offsets from the attr start)${hdoc ? `: ${hdoc}` : '.'}`;
        s += `\n${emitLayout(part, part, t, pdoc)}`;
      }
      for (const k of Object.keys(parts))
        if (!used.has(k))
          throw new HeaderError(d.file, d.line, `PART_NAMES entry ${k} of ${cname} matches no member`);
    }
    items.push({ line: d.line, order: order++, text: s });
  }
  items.sort((a, b) => a.line - b.line || a.order - b.order);
  let out = `// Code generated by @bpfjs/uapi/scripts/generate from Linux ${opts.version} UAPI headers; DO NOT EDIT.\n`;
  out += `// Source: include/${header} from Debian linux-libc-dev ${opts.packageVersion}, sha256 ${sha}.\n`;
  out += `// Regenerate with \`pnpm --filter @bpfjs/uapi generate\`.\n\n`;
  out += `/**\n * Constants, enums and struct layouts of \`<${header}>\` (Linux ${opts.version}).\n *\n * @module\n */\n\n`;
  if (usesLayout) out += `import type { ScalarValues, TypeLayout } from '../../layout.js';\n\n`;
  out += items.map((i) => i.text).join('\n');
  return out;
}

/** @param {Record_} rec @returns {string | undefined} */
function firstLeaf(rec) {
  for (const m of rec.members) {
    if (m.name) return m.name;
    if (m.bitWidth !== undefined) continue;
    const t = m.type;
    if (t.k === 'struct' || t.k === 'union') {
      const f = firstLeaf(t);
      if (f) return f;
    }
  }
  return undefined;
}

/** @param {GenerateOptions} opts @param {Record<string, string>} shas */
function emitVersion(opts, shas) {
  let s = `// Code generated by @bpfjs/uapi/scripts/generate from Linux ${opts.version} UAPI headers; DO NOT EDIT.\n\n`;
  s += `/** The Linux version of the UAPI headers this package was generated from. */\nexport const UAPI_VERSION = ${q(opts.version)};\n\n`;
  s += `/** The Debian linux-libc-dev package version the headers came from. */\nexport const UAPI_PACKAGE_VERSION = ${q(opts.packageVersion)};\n\n`;
  s +=
    '/** sha256 of each header the generated modules were made from. */\nexport const UAPI_HEADER_SHA256: Readonly<Record<string, string>> = {\n';
  for (const [h, sha] of Object.entries(shas)) s += `  ${q(h)}: ${q(sha)},\n`;
  s += '};\n';
  return s;
}
