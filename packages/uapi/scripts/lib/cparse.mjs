// Declarations of the kernel UAPI headers (enums, structs, unions, typedefs of them) parsed from
// preprocessed tokens, and their layouts by the C ABI of x86-64 and aarch64 Linux (LP64; both
// ABIs agree for everything these headers contain). Part of @bpfjs/uapi's generator.

import { evalExpr, HeaderError, SCALARS } from './cpp.mjs';

/** @typedef {import('./cpp.mjs').Token} Token */
/** @typedef {import('./cpp.mjs').CValue} CValue */

/**
 * @typedef {{ k: 'int', name: string, size: number, align: number, signed: boolean, kind: string }
 *   | { k: 'ptr', size: 8, align: 8 }
 *   | { k: 'array', of: CType, count: number, size: number, align: number }
 *   | Record_ | Enum_} CType
 * @typedef {{ k: 'struct'|'union', tag: string | null, members: Member[], size: number, align: number,
 *   complete: boolean, file: string, line: number, doc?: string, attrAlign: number, packed: boolean, id: number }} Record_
 * @typedef {{ k: 'enum', tag: string | null, values: Enumerator[], size: number, align: number, signed: boolean,
 *   file: string, line: number, doc?: string, complete: boolean }} Enum_
 * @typedef {{ name: string, value: CValue, file: string, line: number, doc?: string }} Enumerator
 * @typedef {{ name: string | null, type: CType, bitWidth?: number, attrAlign: number, file: string, line: number,
 *   doc?: string, offset: number, bitOffset?: number }} Member
 */

/** @param {string} name @param {number} size @param {boolean} signed @param {string} kind @returns {CType} */
const int = (name, size, signed, kind) => ({ k: 'int', name, size, align: size, signed, kind });

/** Builtin scalar types, by the words that name them. */
function builtinScalar(/** @type {string[]} */ words) {
  if (words.length === 1 && words[0] in SCALARS) {
    const [size, signed] = SCALARS[/** @type {keyof typeof SCALARS} */ (words[0])];
    return int(words[0], size, signed, `${signed ? 's' : 'u'}${size * 8}`);
  }
  const unsigned = words.includes('unsigned');
  const signedW = words.includes('signed');
  const rest = words.filter((w) => w !== 'unsigned' && w !== 'signed');
  const key = rest.filter((w) => w !== 'int' || rest.length === 1).join(' ');
  const name = words.join(' ');
  switch (key) {
    case 'char':
      if (unsigned) return int(name, 1, false, 'u8');
      if (signedW) return int(name, 1, true, 's8');
      return int(name, 1, true, 'char');
    case 'short':
      return int(name, 2, !unsigned, unsigned ? 'u16' : 's16');
    case '':
    case 'int':
      return int(name, 4, !unsigned, unsigned ? 'u32' : 's32');
    case 'long':
    case 'long long':
      return int(name, 8, !unsigned, unsigned ? 'u64' : 's64');
    case '_Bool':
      return int(name, 1, false, 'u8');
    default:
      return undefined;
  }
}

const TYPE_WORDS = new Set(['unsigned', 'signed', 'int', 'char', 'short', 'long', '_Bool']);
const QUALIFIERS = new Set(['const', 'volatile', '__extension__', 'restrict', '__restrict']);

/**
 * Everything the headers declare, in source order.
 */
export class Declarations {
  constructor() {
    /** @type {Map<string, Record_>} `struct x` / `union x` */
    this.records = new Map();
    /** @type {Map<string, Enum_>} */
    this.enums = new Map();
    /** @type {Map<string, Enumerator>} */
    this.enumerators = new Map();
    /** @type {Map<string, CType>} */
    this.typedefs = new Map();
    /** @type {(Record_ | Enum_)[]} every definition (tagged or not, nested too), in source order */
    this.defined = [];
    this.nextId = 0;
  }

  /**
   * Parses preprocessed tokens.
   * @param {Token[]} toks
   */
  parse(toks) {
    const P = new Parser(toks, this);
    P.translationUnit();
  }

  /**
   * The size of a type named by tokens (for `sizeof` in constant expressions).
   * @param {Token[]} toks
   * @param {Token} at
   */
  sizeof(toks, at) {
    const P = new Parser(toks, this);
    const base = P.typeSpecifier();
    let t = base;
    while (P.is('*')) {
      P.p++;
      t = { k: 'ptr', size: 8, align: 8 };
    }
    if (P.p !== toks.length) throw new HeaderError(at.file, at.line, 'cannot read the type in sizeof');
    if (!('complete' in t) || t.complete) return t.size;
    throw new HeaderError(at.file, at.line, `sizeof of incomplete type ${describe(t)}`);
  }

  /** Identifier lookup for constant expressions: enumerators. @param {Token} t */
  identValue(t) {
    return this.enumerators.get(t.v)?.value;
  }
}

/** @param {CType} t */
export function describe(t) {
  if (t.k === 'int') return t.name;
  if (t.k === 'ptr') return 'pointer';
  if (t.k === 'array') return `${describe(t.of)}[${t.count}]`;
  return `${t.k} ${t.tag ?? '(anonymous)'}`;
}

class Parser {
  /** @param {Token[]} toks @param {Declarations} d */
  constructor(toks, d) {
    this.toks = toks;
    this.d = d;
    this.p = 0;
  }
  get t() {
    return this.toks[this.p];
  }
  /** @param {string} v */
  is(v) {
    const t = this.toks[this.p];
    return t !== undefined && (t.k === 'punct' || t.k === 'id') && t.v === v;
  }
  /** @param {string} msg @returns {never} */
  fail(msg) {
    const t = this.toks[Math.min(this.p, this.toks.length - 1)];
    throw new HeaderError(t?.file ?? '?', t?.line ?? 0, msg);
  }
  found() {
    const t = this.toks[this.p];
    return t ? `'${t.v}'` : 'end of input';
  }
  /** @param {string} v */
  expect(v) {
    if (!this.is(v)) this.fail(`expected '${v}', found ${this.found()}`);
    return this.toks[this.p++];
  }

  translationUnit() {
    while (this.p < this.toks.length) {
      if (this.is(';')) {
        this.p++;
        continue;
      }
      const start = this.t;
      if (this.is('typedef')) {
        this.p++;
        const base = this.typeSpecifier();
        this.attributes();
        const { name, type } = this.declarator(base);
        if (!name) this.fail('typedef without a name');
        this.d.typedefs.set(name, type);
        this.expect(';');
        continue;
      }
      if (!(this.is('struct') || this.is('union') || this.is('enum'))) {
        this.fail(`expected a struct, union, enum or typedef declaration, found ${this.found()}`);
      }
      this.typeSpecifier();
      this.attributes();
      if (!this.is(';'))
        this.fail(
          `declarations of objects or functions are not supported (at '${start.v}'), found ${this.found()}`,
        );
      this.p++;
    }
  }

  /** `__attribute__((aligned(N)))`, `((packed))`; returns what it found. */
  attributes() {
    let align = 0;
    let packed = false;
    while (this.is('__attribute__') || this.is('__attribute')) {
      this.p++;
      this.expect('(');
      this.expect('(');
      while (!this.is(')')) {
        const name = this.t;
        if (name?.k !== 'id') this.fail(`cannot read attribute, found ${this.found()}`);
        this.p++;
        const nm = name.v.replace(/^__(.*)__$/, '$1');
        if (nm === 'aligned') {
          if (this.is('(')) {
            this.p++;
            const start = this.p;
            let depth = 0;
            while (!(depth === 0 && this.is(')'))) {
              if (this.is('(')) depth++;
              if (this.is(')')) depth--;
              this.p++;
            }
            align = Math.max(align, Number(this.constExpr(this.toks.slice(start, this.p)).v));
            this.p++;
          } else align = Math.max(align, 16);
        } else if (nm === 'packed') packed = true;
        else this.fail(`unsupported attribute '${name.v}'`);
        if (this.is(',')) this.p++;
      }
      this.expect(')');
      this.expect(')');
    }
    return { align, packed };
  }

  /** @param {Token[]} toks */
  constExpr(toks) {
    const at = toks[0] ?? this.t;
    return evalExpr(
      toks,
      { ident: (t) => this.d.identValue(t), sizeof: (ts, a) => this.d.sizeof(ts, a) },
      { file: at?.file ?? '?', line: at?.line ?? 0 },
    );
  }

  /** @returns {CType} */
  typeSpecifier() {
    while (this.t && QUALIFIERS.has(this.t.v)) this.p++;
    const t = this.t;
    if (!t) this.fail('expected a type, found end of input');
    if (t.v === 'struct' || t.v === 'union') return this.record();
    if (t.v === 'enum') return this.enumSpec();
    /** @type {string[]} */
    const words = [];
    while (this.t && this.t.k === 'id' && (TYPE_WORDS.has(this.t.v) || QUALIFIERS.has(this.t.v))) {
      if (!QUALIFIERS.has(this.t.v)) words.push(this.t.v);
      this.p++;
    }
    if (words.length === 0 && t.k === 'id') {
      this.p++;
      if (t.v in SCALARS) {
        const b = builtinScalar([t.v]);
        if (b) return t.v === '__aligned_u64' || t.v.startsWith('__aligned_') ? { ...b, align: 8 } : b;
      }
      const td = this.d.typedefs.get(t.v);
      if (td) return td;
      if (t.v === 'void') return { k: 'int', name: 'void', size: 1, align: 1, signed: false, kind: 'u8' };
      this.p--;
      this.fail(`unknown type name '${t.v}'`);
    }
    while (this.t && QUALIFIERS.has(this.t.v)) this.p++;
    const b = builtinScalar(words);
    if (!b) this.fail(`unsupported type '${words.join(' ')}'`);
    return b;
  }

  /** @returns {Record_} */
  record() {
    const kw = this.toks[this.p++];
    const kind = /** @type {'struct'|'union'} */ (kw.v);
    const pre = this.attributes();
    /** @type {string | null} */
    let tag = null;
    if (this.t?.k === 'id' && !this.is('{')) {
      tag = this.t.v;
      this.p++;
    }
    const key = `${kind} ${tag}`;
    /** @type {Record_ | undefined} */
    let rec = tag ? this.d.records.get(key) : undefined;
    if (!this.is('{')) {
      if (!tag) this.fail(`anonymous ${kind} without a body`);
      if (!rec) {
        rec = {
          k: kind,
          tag,
          members: [],
          size: 0,
          align: 1,
          complete: false,
          file: kw.file,
          line: kw.line,
          attrAlign: 0,
          packed: false,
          id: this.d.nextId++,
        };
        this.d.records.set(key, rec);
      }
      return rec;
    }
    if (rec?.complete) this.fail(`redefinition of ${key}`);
    if (!rec) {
      rec = {
        k: kind,
        tag,
        members: [],
        size: 0,
        align: 1,
        complete: false,
        file: kw.file,
        line: kw.line,
        attrAlign: 0,
        packed: false,
        id: this.d.nextId++,
      };
      if (tag) this.d.records.set(key, rec);
    }
    const doc = kw.doc ?? this.toks[this.p].tail;
    if (doc !== undefined) rec.doc = doc;
    this.expect('{');
    while (!this.is('}')) {
      if (!this.t) this.fail(`unterminated ${kind} body`);
      this.memberDeclaration(rec);
    }
    this.p++;
    const post = this.attributes();
    rec.attrAlign = Math.max(pre.align, post.align);
    rec.packed = pre.packed || post.packed;
    layoutRecord(rec);
    rec.complete = true;
    this.d.defined.push(rec);
    return rec;
  }

  /** @param {Record_} rec */
  memberDeclaration(rec) {
    const first = this.t;
    const base = this.typeSpecifier();
    const a0 = this.attributes();
    if (this.is(';')) {
      // anonymous struct/union member
      if (base.k !== 'struct' && base.k !== 'union') this.fail('declaration does not declare anything');
      if (base.tag !== null) this.fail(`member of type ${describe(base)} has no name`);
      rec.members.push({
        name: null,
        type: base,
        attrAlign: a0.align,
        file: first.file,
        line: first.line,
        offset: 0,
      });
      this.p++;
      return;
    }
    for (;;) {
      const at = this.t;
      /** @type {string | null} */
      let name = null;
      let type = base;
      if (!this.is(':')) ({ name, type } = this.declarator(base));
      /** @type {number | undefined} */
      let bitWidth;
      if (this.is(':')) {
        this.p++;
        const start = this.p;
        while (!this.is(',') && !this.is(';') && !this.is('__attribute__')) this.p++;
        bitWidth = Number(this.constExpr(this.toks.slice(start, this.p)).v);
        if (type.k !== 'int' && type.k !== 'enum') this.fail(`bit-field '${name ?? ''}' of non-integer type`);
        if (bitWidth > type.size * 8 || bitWidth < 0)
          this.fail(`bit-field '${name ?? ''}' wider than its type`);
      }
      const a = this.attributes();
      /** @type {Member} */
      const m = {
        name,
        type,
        attrAlign: Math.max(a0.align, a.align),
        file: at.file,
        line: at.line,
        offset: 0,
      };
      if (bitWidth !== undefined) m.bitWidth = bitWidth;
      const doc = first.doc ?? this.t?.tail ?? this.toks[this.p - 1]?.tail;
      if (doc !== undefined) m.doc = doc;
      rec.members.push(m);
      if (this.is(',')) {
        this.p++;
        continue;
      }
      if (this.is(';')) {
        // the trailing comment sits on the ';' when the declaration ends the line
        if (m.doc === undefined && this.t.tail !== undefined) m.doc = this.t.tail;
        this.p++;
        return;
      }
      this.fail(`expected ',' or ';' after member '${name ?? ''}', found ${this.found()}`);
    }
  }

  /**
   * `*`s, a name, then array dimensions.
   * @param {CType} base
   * @returns {{ name: string | null, type: CType }}
   */
  declarator(base) {
    let type = base;
    while (this.is('*')) {
      this.p++;
      while (this.t && QUALIFIERS.has(this.t.v)) this.p++;
      type = { k: 'ptr', size: 8, align: 8 };
    }
    if (this.is('(')) this.fail('function pointers and parenthesized declarators are not supported');
    /** @type {string | null} */
    let name = null;
    if (this.t?.k === 'id' && !this.is('__attribute__')) {
      name = this.t.v;
      this.p++;
    }
    /** @type {number[]} */
    const dims = [];
    while (this.is('[')) {
      this.p++;
      const start = this.p;
      while (!this.is(']')) {
        if (!this.t) this.fail('unterminated array dimension');
        this.p++;
      }
      dims.push(start === this.p ? 0 : Number(this.constExpr(this.toks.slice(start, this.p)).v));
      this.p++;
    }
    for (let i = dims.length - 1; i >= 0; i--) {
      const count = dims[i];
      if (type.k !== 'ptr' && 'complete' in type && !type.complete)
        this.fail(`array of incomplete ${describe(type)}`);
      type = { k: 'array', of: type, count, size: count * type.size, align: type.align };
    }
    if ((type.k === 'struct' || type.k === 'union') && !type.complete && name)
      this.fail(`member '${name}' has incomplete type ${describe(type)}`);
    return { name, type };
  }

  /** @returns {Enum_} */
  enumSpec() {
    const kw = this.toks[this.p++];
    this.attributes();
    /** @type {string | null} */
    let tag = null;
    if (this.t?.k === 'id') {
      tag = this.t.v;
      this.p++;
    }
    const existing = tag ? this.d.enums.get(tag) : undefined;
    if (!this.is('{')) {
      if (!existing) this.fail(`use of undefined enum ${tag}`);
      return existing;
    }
    if (existing) this.fail(`redefinition of enum ${tag}`);
    /** @type {Enum_} */
    const e = {
      k: 'enum',
      tag,
      values: [],
      size: 4,
      align: 4,
      signed: false,
      file: kw.file,
      line: kw.line,
      complete: false,
    };
    if (kw.doc !== undefined) e.doc = kw.doc;
    this.expect('{');
    /** @type {CValue} */
    let next = { v: 0n, t: 'i32' };
    while (!this.is('}')) {
      const nt = this.t;
      if (nt?.k !== 'id') this.fail(`expected an enumerator name, found ${this.found()}`);
      this.p++;
      /** @type {CValue} */
      let value = next;
      if (this.is('=')) {
        this.p++;
        const start = this.p;
        let depth = 0;
        while (this.t && !(depth === 0 && (this.is(',') || this.is('}')))) {
          if (this.is('(')) depth++;
          if (this.is(')')) depth--;
          this.p++;
        }
        value = this.constExpr(this.toks.slice(start, this.p));
      }
      if (this.d.enumerators.has(nt.v)) this.fail(`redefinition of enumerator ${nt.v}`);
      // enumeration constants have type int when the value fits (C), else GCC widens them
      const v = value.v;
      /** @type {CValue} */
      const typed =
        v >= -(2n ** 31n) && v < 2n ** 31n
          ? { v, t: 'i32' }
          : v >= 0n && v < 2n ** 32n
            ? { v, t: 'u32' }
            : v < 2n ** 63n
              ? { v, t: 'i64' }
              : { v, t: 'u64' };
      /** @type {Enumerator} */
      const en = { name: nt.v, value: typed, file: nt.file, line: nt.line };
      const doc = this.is(',') ? (this.t.tail ?? this.toks[this.p - 1].tail) : this.toks[this.p - 1].tail;
      if (doc !== undefined) en.doc = doc;
      e.values.push(en);
      this.d.enumerators.set(nt.v, en);
      next = { v: v + 1n, t: typed.t };
      if (this.is(',')) this.p++;
      else if (!this.is('}'))
        this.fail(`expected ',' or '}' after enumerator ${nt.v}, found ${this.found()}`);
    }
    this.p++;
    let min = 0n;
    let max = 0n;
    for (const x of e.values) {
      if (x.value.v < min) min = x.value.v;
      if (x.value.v > max) max = x.value.v;
    }
    e.signed = min < 0n;
    const fits32 = e.signed ? min >= -(2n ** 31n) && max < 2n ** 31n : max < 2n ** 32n;
    e.size = fits32 ? 4 : 8;
    e.align = e.size;
    e.complete = true;
    if (tag) this.d.enums.set(tag, e);
    this.d.defined.push(e);
    return e;
  }
}

/** @param {number} x @param {number} a */
const alignUp = (x, a) => Math.ceil(x / a) * a;

/**
 * Lays out one struct or union (GCC's rules for x86-64 / aarch64 Linux): members at their
 * alignment, bit-fields packed into storage units of their declared type without crossing a unit
 * boundary, zero-width bit-fields aligning to their type, unnamed bit-fields not affecting the
 * aggregate's alignment, `aligned`/`packed` attributes.
 * @param {Record_} rec
 */
export function layoutRecord(rec) {
  let bit = 0;
  let size = 0;
  let align = 1;
  for (const m of rec.members) {
    const t = m.type;
    const natural = rec.packed && !m.attrAlign ? 1 : Math.max(t.align, m.attrAlign);
    if (m.bitWidth !== undefined) {
      const unitBits = t.size * 8;
      if (rec.k === 'union') {
        m.offset = 0;
        m.bitOffset = 0;
        size = Math.max(size, Math.ceil(m.bitWidth / 8));
      } else if (m.bitWidth === 0) {
        bit = alignUp(bit, t.align * 8);
        m.bitOffset = bit;
        m.offset = Math.floor(bit / 8);
      } else {
        if (!rec.packed && Math.floor(bit / unitBits) !== Math.floor((bit + m.bitWidth - 1) / unitBits))
          bit = alignUp(bit, unitBits);
        m.bitOffset = bit;
        m.offset = Math.floor(bit / (t.align * 8)) * t.align;
        bit += m.bitWidth;
      }
      if (m.name !== null) align = Math.max(align, natural);
      continue;
    }
    align = Math.max(align, natural);
    if (rec.k === 'union') {
      m.offset = 0;
      size = Math.max(size, t.size);
    } else {
      m.offset = alignUp(Math.ceil(bit / 8), natural);
      bit = (m.offset + t.size) * 8;
    }
  }
  if (rec.k === 'struct') size = Math.ceil(bit / 8);
  align = Math.max(align, rec.attrAlign);
  rec.align = align;
  rec.size = alignUp(size, align);
}
