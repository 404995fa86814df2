// The C preprocessor subset the kernel UAPI headers use: a tokenizer, conditionals, object-like
// and function-like macros (with `#`, `##`, GNU named variadics and `, ## args`), includes of the
// headers we generate from, and the integer constant expressions of `#if` and `#define`.
// Part of @bpfjs/uapi's generator; our own code, no dependencies.

/** A parse failure, always pinned to `file:line`. */
export class HeaderError extends Error {
  /**
   * @param {string} file
   * @param {number} line
   * @param {string} what
   */
  constructor(file, line, what) {
    super(`${file}:${line}: ${what}`);
    this.name = 'HeaderError';
    this.file = file;
    this.line = line;
    this.what = what;
  }
}

const PUNCT3 = ['...', '<<=', '>>='];
const PUNCT2 = [
  '##',
  '<<',
  '>>',
  '<=',
  '>=',
  '==',
  '!=',
  '&&',
  '||',
  '->',
  '++',
  '--',
  '+=',
  '-=',
  '*=',
  '/=',
  '|=',
  '&=',
  '^=',
  '%=',
];
const PUNCT1 = '#()[]{};,:.?+-*/%<>=!~&|^';

/**
 * @typedef {{ k: 'id'|'num'|'str'|'chr'|'punct', v: string, file: string, line: number,
 *   nl: boolean, sp: boolean, hide?: Set<string>, doc?: string, tail?: string }} Token
 */

/**
 * Splits C source into tokens. `nl` marks the first token of a (logical) line, `sp` a token
 * preceded by whitespace. A comment right before a token is kept as `doc`, a comment after a token
 * on its line as `tail` (both trimmed of comment markers), for TSDoc.
 * @param {string} src
 * @param {string} file
 * @returns {Token[]}
 */
export function tokenize(src, file) {
  /** @type {Token[]} */
  const out = [];
  let i = 0;
  let line = 1;
  let nl = true;
  let sp = false;
  /** @type {string | undefined} */
  let doc;
  const n = src.length;
  while (i < n) {
    const c = src[i];
    if (c === '\n') {
      line++;
      i++;
      nl = true;
      sp = true;
      continue;
    }
    if (c === '\\' && src[i + 1] === '\n') {
      line++;
      i += 2;
      sp = true;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v') {
      i++;
      sp = true;
      continue;
    }
    if (c === '/' && src[i + 1] === '*') {
      const end = src.indexOf('*/', i + 2);
      if (end < 0) throw new HeaderError(file, line, 'unterminated comment');
      const body = src.slice(i + 2, end);
      const startLine = line;
      for (const ch of body) if (ch === '\n') line++;
      i = end + 2;
      sp = true;
      const text = cleanComment(body);
      const prev = out[out.length - 1];
      if (prev && prev.line === startLine && !nl) prev.tail = prev.tail ? `${prev.tail} ${text}` : text;
      else doc = text;
      continue;
    }
    if (c === '/' && src[i + 1] === '/') {
      const end = src.indexOf('\n', i);
      const text = src.slice(i + 2, end < 0 ? n : end).trim();
      const prev = out[out.length - 1];
      if (prev && !nl) prev.tail = prev.tail ? `${prev.tail} ${text}` : text;
      else doc = text;
      i = end < 0 ? n : end;
      continue;
    }
    /** @type {Token['k']} */
    let k;
    let v;
    const rest = src.slice(i, i + 3);
    if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_0-9]+/.exec(src.slice(i, i + 256));
      v = m[0];
      k = 'id';
    } else if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(src[i + 1] ?? ''))) {
      const m = /^[0-9a-zA-Z_.]+/.exec(src.slice(i, i + 256));
      v = m[0];
      k = 'num';
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < n && src[j] !== c) {
        if (src[j] === '\\') j++;
        if (src[j] === '\n')
          throw new HeaderError(file, line, `unterminated ${c === '"' ? 'string' : 'character'} literal`);
        j++;
      }
      if (j >= n) throw new HeaderError(file, line, 'unterminated literal');
      v = src.slice(i, j + 1);
      k = c === '"' ? 'str' : 'chr';
    } else if (PUNCT3.includes(rest)) {
      v = rest;
      k = 'punct';
    } else if (PUNCT2.includes(rest.slice(0, 2))) {
      v = rest.slice(0, 2);
      k = 'punct';
    } else if (PUNCT1.includes(c)) {
      v = c;
      k = 'punct';
    } else {
      throw new HeaderError(file, line, `unexpected character ${JSON.stringify(c)}`);
    }
    /** @type {Token} */
    const t = { k, v, file, line, nl, sp };
    if (doc !== undefined) t.doc = doc;
    doc = undefined;
    out.push(t);
    i += v.length;
    nl = false;
    sp = false;
  }
  return out;
}

/** @param {string} body */
function cleanComment(body) {
  return body
    .split('\n')
    .map((l) => l.replace(/^\s*\*?\s?/, '').trimEnd())
    .join('\n')
    .trim();
}

// ---------------------------------------------------------------------------------------------
// Integer constant expressions with C's types (LP64): int, unsigned int, long, unsigned long.

/** @typedef {{ v: bigint, t: 'i32'|'u32'|'i64'|'u64' }} CValue */

const BITS = { i32: 32n, u32: 32n, i64: 64n, u64: 64n };
const SIGNED = { i32: true, u32: false, i64: true, u64: false };

/**
 * @param {bigint} v
 * @param {CValue['t']} t
 * @returns {CValue}
 */
export function wrap(v, t) {
  return { v: SIGNED[t] ? BigInt.asIntN(Number(BITS[t]), v) : BigInt.asUintN(Number(BITS[t]), v), t };
}

/** @param {CValue['t']} a @param {CValue['t']} b @returns {CValue['t']} */
function common(a, b) {
  const ra = BITS[a];
  const rb = BITS[b];
  if (ra !== rb) return ra > rb ? a : b; // the 64-bit type represents every 32-bit value
  return SIGNED[a] && SIGNED[b] ? a : a.startsWith('u') ? a : b;
}

/**
 * Reads one integer literal as C does (type from value, base and suffix).
 * @param {string} text
 * @returns {CValue | undefined}
 */
export function parseIntLiteral(text) {
  const m = /^(0[xX][0-9a-fA-F]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)([uUlL]*)$/.exec(text);
  if (!m) return undefined;
  const [, digits, suffix] = m;
  let v;
  if (/^0[bB]/.test(digits)) v = BigInt(digits);
  else if (/^0[0-7]+$/.test(digits)) v = BigInt(`0o${digits.slice(1)}`);
  else v = BigInt(digits);
  const s = suffix.toLowerCase();
  if (!/^(u?l{0,2}|l{1,2}u)$/.test(s) || s.includes('ll') !== /ll/.test(s)) return undefined;
  const unsignedSuffix = s.includes('u');
  const longSuffix = s.includes('l');
  const decimal = !/^0/.test(digits) || digits === '0';
  /** @type {CValue['t'][]} */
  let candidates;
  if (unsignedSuffix) candidates = longSuffix ? ['u64'] : ['u32', 'u64'];
  else if (decimal) candidates = longSuffix ? ['i64'] : ['i32', 'i64'];
  else candidates = longSuffix ? ['i64', 'u64'] : ['i32', 'u32', 'i64', 'u64'];
  for (const t of candidates) if (wrap(v, t).v === v) return { v, t };
  return undefined;
}

/** Integer types a cast or `sizeof` may name, with their size and signedness. */
export const SCALARS = {
  __u8: [1, false],
  __s8: [1, true],
  __u16: [2, false],
  __s16: [2, true],
  __u32: [4, false],
  __s32: [4, true],
  __u64: [8, false],
  __s64: [8, true],
  __be16: [2, false],
  __be32: [4, false],
  __be64: [8, false],
  __le16: [2, false],
  __le32: [4, false],
  __le64: [8, false],
  __sum16: [2, false],
  __wsum: [4, false],
  __aligned_u64: [8, false],
  __aligned_be64: [8, false],
  __aligned_le64: [8, false],
  __kernel_sa_family_t: [2, false],
  __kernel_size_t: [8, false],
  __kernel_ssize_t: [8, true],
  __kernel_pid_t: [4, true],
  __kernel_uid32_t: [4, false],
  __kernel_gid32_t: [4, false],
  __kernel_long_t: [8, true],
  __kernel_ulong_t: [8, false],
  __poll_t: [4, false],
};

/**
 * Evaluates a C integer constant expression.
 * @param {Token[]} toks already macro-expanded
 * @param {{ ident(t: Token): CValue | undefined, sizeof?(typeToks: Token[], at: Token): number }} env
 * @param {{ file: string, line: number }} where for errors
 * @returns {CValue}
 */
export function evalExpr(toks, env, where) {
  let p = 0;
  const fail = (/** @type {string} */ msg) => {
    const t = toks[Math.min(p, toks.length - 1)];
    throw new HeaderError(t?.file ?? where.file, t?.line ?? where.line, msg);
  };
  const peek = () => toks[p];
  const is = (/** @type {string} */ v) => toks[p] !== undefined && toks[p].k === 'punct' && toks[p].v === v;
  const expect = (/** @type {string} */ v) => {
    if (!is(v)) fail(`expected '${v}' in constant expression, found ${toks[p] ? `'${toks[p].v}'` : 'end'}`);
    p++;
  };
  const isTypeStart = (/** @type {number} */ q) => {
    const t = toks[q];
    if (t?.k !== 'id') return false;
    return (
      t.v in SCALARS ||
      [
        'int',
        'unsigned',
        'signed',
        'long',
        'short',
        'char',
        'struct',
        'union',
        'enum',
        'const',
        'void',
        '__typeof__',
        'typeof',
      ].includes(t.v)
    );
  };
  const readTypeName = () => {
    const start = p;
    let depth = 0;
    while (p < toks.length && !(depth === 0 && is(')'))) {
      if (is('(')) depth++;
      if (is(')')) depth--;
      p++;
    }
    return toks.slice(start, p);
  };
  /** @param {Token[]} ts @returns {CValue['t'] | number} */
  const castType = (ts) => {
    if (ts[0]?.v === '__typeof__' || ts[0]?.v === 'typeof') {
      if (ts[1]?.v !== '(' || ts[ts.length - 1]?.v !== ')') return -1;
      return evalExpr(ts.slice(2, -1), env, where).t;
    }
    const words = ts.map((t) => t.v).filter((w) => w !== 'const');
    if (words.includes('*')) return -1;
    if (words.length === 1 && words[0] in SCALARS) {
      const [size, signed] = SCALARS[/** @type {keyof typeof SCALARS} */ (words[0])];
      return size === 8
        ? signed
          ? 'i64'
          : 'u64'
        : size === 4
          ? signed
            ? 'i32'
            : 'u32'
          : size * (signed ? -10 : 10);
    }
    const unsigned = words.includes('unsigned');
    const rest = words.filter((w) => w !== 'unsigned' && w !== 'signed' && w !== 'int');
    if (rest.length === 0) return unsigned ? 'u32' : 'i32';
    if (rest.every((w) => w === 'long')) return unsigned ? 'u64' : 'i64';
    if (rest.length === 1 && rest[0] === 'short') return unsigned ? 20 : -20;
    if (rest.length === 1 && rest[0] === 'char') return unsigned || !words.includes('signed') ? 10 : -10;
    return -1;
  };

  /** @returns {CValue} */
  const primary = () => {
    const t = peek();
    if (!t) fail('unexpected end of constant expression');
    if (t.k === 'num') {
      p++;
      const v = parseIntLiteral(t.v);
      if (!v) fail(`not an integer literal: ${t.v}`);
      return v;
    }
    if (t.k === 'chr') {
      p++;
      const body = t.v.slice(1, -1);
      const esc = { n: 10, t: 9, r: 13, 0: 0, '\\': 92, "'": 39, '"': 34 };
      if (body.length === 1) return { v: BigInt(body.charCodeAt(0)), t: 'i32' };
      if (body[0] === '\\' && body.length === 2 && body[1] in esc)
        return { v: BigInt(esc[body[1]]), t: 'i32' };
      fail(`unsupported character literal ${t.v}`);
    }
    if (t.k === 'id') {
      if (t.v === 'sizeof') {
        p++;
        if (!is('(') || !isTypeStart(p + 1)) fail('sizeof needs a parenthesized type name');
        p++;
        const ts = readTypeName();
        expect(')');
        if (!env.sizeof) fail('sizeof is not available here');
        return { v: BigInt(env.sizeof(ts, t)), t: 'u64' };
      }
      const v = env.ident(t);
      if (!v) fail(`unknown identifier '${t.v}' in constant expression`);
      p++;
      return v;
    }
    if (is('(')) {
      p++;
      const v = ternary();
      expect(')');
      return v;
    }
    fail(`unexpected '${t.v}' in constant expression`);
  };
  /** @returns {CValue} */
  const unary = () => {
    if (is('(') && isTypeStart(p + 1)) {
      p++;
      const ts = readTypeName();
      expect(')');
      const ct = castType(ts);
      if (ct === -1) fail(`unsupported cast to '${ts.map((x) => x.v).join(' ')}'`);
      const v = unary();
      if (typeof ct === 'string') return wrap(v.v, ct);
      const bits = Math.abs(ct) / 10;
      return { v: ct < 0 ? BigInt.asIntN(bits * 8, v.v) : BigInt.asUintN(bits * 8, v.v), t: 'i32' };
    }
    if (is('-') || is('+') || is('~') || is('!')) {
      const op = toks[p++].v;
      const a = promote(unary());
      if (op === '-') return wrap(-a.v, a.t);
      if (op === '+') return a;
      if (op === '~') return wrap(~a.v, a.t);
      return { v: a.v === 0n ? 1n : 0n, t: 'i32' };
    }
    return primary();
  };
  /** @param {CValue} a @returns {CValue} */
  const promote = (a) => a;
  const LEVELS = [
    ['||'],
    ['&&'],
    ['|'],
    ['^'],
    ['&'],
    ['==', '!='],
    ['<', '>', '<=', '>='],
    ['<<', '>>'],
    ['+', '-'],
    ['*', '/', '%'],
  ];
  /** @param {number} level @returns {CValue} */
  const binary = (level) => {
    if (level === LEVELS.length) return unary();
    let a = binary(level + 1);
    while (p < toks.length && toks[p].k === 'punct' && LEVELS[level].includes(toks[p].v)) {
      const op = toks[p++].v;
      const b = binary(level + 1);
      a = applyBinary(op, a, b, fail);
    }
    return a;
  };
  /** @returns {CValue} */
  const ternary = () => {
    const c = binary(0);
    if (!is('?')) return c;
    p++;
    const x = ternary();
    expect(':');
    const y = ternary();
    const t = common(x.t, y.t);
    return c.v !== 0n ? wrap(x.v, t) : wrap(y.v, t);
  };
  if (toks.length === 0) throw new HeaderError(where.file, where.line, 'empty constant expression');
  const v = ternary();
  if (p !== toks.length) fail(`unexpected '${toks[p].v}' after constant expression`);
  return v;
}

/**
 * @param {string} op
 * @param {CValue} a
 * @param {CValue} b
 * @param {(msg: string) => never} fail
 * @returns {CValue}
 */
function applyBinary(op, a, b, fail) {
  if (op === '&&') return { v: a.v !== 0n && b.v !== 0n ? 1n : 0n, t: 'i32' };
  if (op === '||') return { v: a.v !== 0n || b.v !== 0n ? 1n : 0n, t: 'i32' };
  if (op === '<<' || op === '>>') {
    if (b.v < 0n || b.v >= BITS[a.t]) fail(`shift by ${b.v} is out of range for a ${BITS[a.t]}-bit operand`);
    return wrap(op === '<<' ? a.v << b.v : a.v >> b.v, a.t);
  }
  const t = common(a.t, b.t);
  const x = wrap(a.v, t).v;
  const y = wrap(b.v, t).v;
  switch (op) {
    case '+':
      return wrap(x + y, t);
    case '-':
      return wrap(x - y, t);
    case '*':
      return wrap(x * y, t);
    case '/':
    case '%':
      if (y === 0n) fail('division by zero in constant expression');
      return wrap(op === '/' ? x / y : x % y, t);
    case '&':
      return wrap(x & y, t);
    case '|':
      return wrap(x | y, t);
    case '^':
      return wrap(x ^ y, t);
    case '==':
      return { v: x === y ? 1n : 0n, t: 'i32' };
    case '!=':
      return { v: x !== y ? 1n : 0n, t: 'i32' };
    case '<':
      return { v: x < y ? 1n : 0n, t: 'i32' };
    case '>':
      return { v: x > y ? 1n : 0n, t: 'i32' };
    case '<=':
      return { v: x <= y ? 1n : 0n, t: 'i32' };
    case '>=':
      return { v: x >= y ? 1n : 0n, t: 'i32' };
    default:
      return fail(`unsupported operator '${op}'`);
  }
}

// ---------------------------------------------------------------------------------------------
// The preprocessor.

/**
 * @typedef {{ name: string, params: string[] | null, variadic: string | null, body: Token[],
 *   file: string, line: number, doc?: string }} Macro
 */

/**
 * Preprocesses a set of headers. Files are read with `read(includePath)` (e.g. `linux/bpf.h`);
 * `#include <x>` is followed only for paths `follow(x)` accepts, each file at most once.
 * Returns the expanded tokens (each remembering its file) and every object-like `#define` in
 * definition order.
 */
export class Preprocessor {
  /**
   * @param {(path: string) => string} read
   * @param {(path: string) => boolean} follow
   */
  constructor(read, follow) {
    this.read = read;
    this.follow = follow;
    /** @type {Map<string, Macro>} */
    this.macros = new Map();
    /** @type {Macro[]} every object-like definition, in order */
    this.defines = [];
    /** @type {Token[]} */
    this.out = [];
    /** @type {Set<string>} */
    this.seen = new Set();
  }

  /** @param {string} path */
  include(path) {
    if (this.seen.has(path)) return;
    this.seen.add(path);
    const toks = tokenize(this.read(path), path);
    /** @type {{ active: boolean, taken: boolean, outer: boolean }[]} */
    const conds = [];
    const active = () => conds.every((c) => c.active);
    let i = 0;
    /** @type {Token[]} */
    let pending = [];
    const flush = () => {
      if (pending.length) this.out.push(...this.expand(pending));
      pending = [];
    };
    while (i < toks.length) {
      const t = toks[i];
      if (t.nl && t.k === 'punct' && t.v === '#') {
        let j = i + 1;
        while (j < toks.length && !toks[j].nl) j++;
        const line = toks.slice(i + 1, j);
        i = j;
        const dir = line[0]?.v ?? '';
        const args = line.slice(1);
        const err = (/** @type {string} */ m) => {
          throw new HeaderError(path, t.line, m);
        };
        if (dir === 'ifdef' || dir === 'ifndef') {
          if (args[0]?.k !== 'id') err(`#${dir} needs a name`);
          const d = this.macros.has(args[0].v);
          conds.push({ active: dir === 'ifdef' ? d : !d, taken: dir === 'ifdef' ? d : !d, outer: active() });
        } else if (dir === 'if') {
          const v = active() ? this.evalCondition(args, path, t.line) : false;
          conds.push({ active: v, taken: v, outer: active() });
        } else if (dir === 'elif') {
          const c = conds[conds.length - 1] ?? err('#elif without #if');
          if (c.taken) c.active = false;
          else {
            conds.pop();
            const v = active() ? this.evalCondition(args, path, t.line) : false;
            conds.push({ active: v, taken: v, outer: c.outer });
          }
        } else if (dir === 'else') {
          const c = conds[conds.length - 1] ?? err('#else without #if');
          c.active = !c.taken;
          c.taken = true;
        } else if (dir === 'endif') {
          if (!conds.pop()) err('#endif without #if');
        } else if (!active()) {
          // skipped branch
        } else if (dir === 'define') {
          flush();
          this.define(line, path, t);
        } else if (dir === 'undef') {
          flush();
          if (args[0]?.k !== 'id') err('#undef needs a name');
          this.macros.delete(args[0].v);
        } else if (dir === 'include') {
          flush();
          const spec = args.map((a) => a.v).join('');
          const m = /^<(.+)>$|^"(.+)"$/.exec(spec);
          if (!m) err(`cannot read #include ${spec}`);
          const target = m[1] ?? m[2];
          if (this.follow(target)) this.include(target);
        } else if (dir === 'error') {
          err(`#error ${args.map((a) => a.v).join(' ')}`);
        } else if (dir === 'pragma' || dir === '') {
          // ignored
        } else {
          err(`unsupported directive #${dir}`);
        }
        continue;
      }
      if (active()) pending.push(t);
      i++;
    }
    if (conds.length) throw new HeaderError(path, toks[toks.length - 1]?.line ?? 1, 'missing #endif');
    flush();
  }

  /**
   * @param {Token[]} line the tokens after `#`
   * @param {string} file
   * @param {Token} hash
   */
  define(line, file, hash) {
    const nameTok = line[1];
    if (nameTok?.k !== 'id') throw new HeaderError(file, hash.line, '#define needs a name');
    let k = 2;
    /** @type {string[] | null} */
    let params = null;
    /** @type {string | null} */
    let variadic = null;
    const next = line[2];
    if (next && next.k === 'punct' && next.v === '(' && !next.sp) {
      params = [];
      k = 3;
      while (k < line.length && line[k].v !== ')') {
        const pt = line[k];
        if (pt.k === 'id') {
          if (line[k + 1]?.v === '...') {
            variadic = pt.v;
            k++;
          } else params.push(pt.v);
        } else if (pt.v === '...') variadic = '__VA_ARGS__';
        else if (pt.v !== ',')
          throw new HeaderError(file, hash.line, `bad macro parameter list for ${nameTok.v}`);
        k++;
      }
      if (line[k]?.v !== ')')
        throw new HeaderError(file, hash.line, `unterminated parameter list for ${nameTok.v}`);
      k++;
    }
    /** @type {Macro} */
    const m = { name: nameTok.v, params, variadic, body: line.slice(k), file, line: hash.line };
    const doc = line[line.length - 1]?.tail ?? nameTok.tail;
    if (doc !== undefined) m.doc = doc;
    this.macros.set(m.name, m);
    if (params === null) this.defines.push(m);
  }

  /**
   * @param {Token[]} toks
   * @param {string} file
   * @param {number} line
   */
  evalCondition(toks, file, line) {
    /** @type {Token[]} */
    const resolved = [];
    for (let i = 0; i < toks.length; i++) {
      const t = toks[i];
      if (t.k === 'id' && t.v === 'defined') {
        let name;
        if (toks[i + 1]?.v === '(') {
          name = toks[i + 2]?.v;
          i += 3;
        } else {
          name = toks[i + 1]?.v;
          i += 1;
        }
        resolved.push({ ...t, k: 'num', v: this.macros.has(name ?? '') ? '1' : '0' });
      } else resolved.push(t);
    }
    const expanded = this.expand(resolved);
    return evalExpr(expanded, { ident: () => ({ v: 0n, t: 'i32' }) }, { file, line }).v !== 0n;
  }

  /**
   * Fully macro-expands a token list (hide sets stop recursion).
   * @param {Token[]} input
   * @returns {Token[]}
   */
  expand(input) {
    const ts = input.slice();
    /** @type {Token[]} */
    const out = [];
    while (ts.length) {
      const t = /** @type {Token} */ (ts.shift());
      const m = t.k === 'id' ? this.macros.get(t.v) : undefined;
      if (!m || t.hide?.has(t.v)) {
        out.push(t);
        continue;
      }
      const hide = new Set(t.hide ?? []);
      hide.add(t.v);
      if (m.params === null) {
        ts.unshift(...this.subst(m, [], hide, t));
        continue;
      }
      if (ts[0]?.v !== '(') {
        out.push(t);
        continue;
      }
      // collect arguments
      ts.shift();
      /** @type {Token[][]} */
      const args = [[]];
      let depth = 0;
      for (;;) {
        const a = ts.shift();
        if (!a) throw new HeaderError(t.file, t.line, `unterminated call of macro ${t.v}`);
        if (a.k === 'punct' && a.v === '(') depth++;
        if (a.k === 'punct' && a.v === ')') {
          if (depth === 0) break;
          depth--;
        }
        if (a.k === 'punct' && a.v === ',' && depth === 0) args.push([]);
        else args[args.length - 1].push(a);
      }
      if (args.length === 1 && args[0].length === 0 && m.params.length === 0) args.pop();
      ts.unshift(...this.subst(m, args, hide, t));
    }
    return out;
  }

  /**
   * @param {Macro} m
   * @param {Token[][]} args
   * @param {Set<string>} hide
   * @param {Token} at the invocation (expanded tokens take its position)
   * @returns {Token[]}
   */
  subst(m, args, hide, at) {
    const params = m.params ?? [];
    /** @type {Map<string, Token[]>} */
    const actual = new Map();
    if (m.params !== null) {
      if (args.length < params.length || (args.length > params.length && !m.variadic))
        throw new HeaderError(
          at.file,
          at.line,
          `macro ${m.name} takes ${params.length} arguments, got ${args.length}`,
        );
      for (const [i, p] of params.entries()) actual.set(p, args[i] ?? []);
      if (m.variadic) {
        /** @type {Token[]} */
        const va = [];
        args.slice(params.length).forEach((a, i) => {
          if (i > 0) va.push({ ...at, k: 'punct', v: ',' });
          va.push(...a);
        });
        actual.set(m.variadic, va);
      }
    }
    const body = m.body;
    /** @type {Token[]} */
    const out = [];
    const place = (/** @type {Token} */ t) => ({
      ...t,
      file: at.file,
      line: at.line,
      nl: false,
      hide,
      doc: undefined,
      tail: undefined,
    });
    for (let i = 0; i < body.length; i++) {
      const t = body[i];
      if (t.k === 'punct' && t.v === '#' && body[i + 1] && actual.has(body[i + 1].v)) {
        const arg = actual.get(body[i + 1].v) ?? [];
        out.push(place({ ...t, k: 'str', v: JSON.stringify(arg.map((a) => a.v).join(' ')) }));
        i++;
        continue;
      }
      if (t.k === 'punct' && t.v === '##') {
        const rhs = body[i + 1];
        if (!rhs) throw new HeaderError(m.file, m.line, `'##' at the end of macro ${m.name}`);
        i++;
        const rhsToks = actual.has(rhs.v) ? (actual.get(rhs.v) ?? []) : [rhs];
        const lhs = out[out.length - 1];
        if (rhs.v === m.variadic && lhs?.v === ',') {
          // GNU `, ## args`: drop the comma when args is empty
          if (rhsToks.length === 0) out.pop();
          else out.push(...rhsToks.map(place));
          continue;
        }
        if (rhsToks.length === 0) continue;
        if (!lhs) {
          out.push(...rhsToks.map(place));
          continue;
        }
        const pasted = lhs.v + rhsToks[0].v;
        const re = tokenize(pasted, at.file);
        if (re.length !== 1)
          throw new HeaderError(
            at.file,
            at.line,
            `pasting '${lhs.v}' and '${rhsToks[0].v}' is not one token`,
          );
        out[out.length - 1] = place({ ...re[0], hide: undefined });
        out.push(...rhsToks.slice(1).map(place));
        continue;
      }
      if (t.k === 'id' && actual.has(t.v)) {
        const raw = actual.get(t.v) ?? [];
        if (body[i + 1]?.v === '##') out.push(...raw.map(place));
        else out.push(...this.expand(raw).map((x) => ({ ...x, file: at.file, line: at.line, nl: false })));
        continue;
      }
      out.push(place(t));
    }
    // tokens already expanded from arguments keep their hide sets plus this macro's
    return out.map((x) => (x.hide === hide ? x : { ...x, hide: new Set([...(x.hide ?? []), ...hide]) }));
  }
}
