/**
 * BTF types → TypeScript type text, in the shapes `@bpfjs/btf`'s `BtfCodec` decodes to (so a
 * generated skeleton's types are what its maps and variables return at run time): integers up to
 * 32 bits → `number`, 64/128-bit → `bigint`, `_Bool` → `boolean`, pointers → `bigint`, floats →
 * `number`, enums → a union of the enumerator names plus `number` (`bigint` for ENUM64: a value
 * no enumerator names is returned as the number), `char` arrays → `string | number[]` (a string
 * when NUL-terminated and printable, as bpftool prints them), other arrays → `T[]`, structs →
 * interfaces keyed by C member names (anonymous members flattened, unnamed bit-fields left out),
 * unions → interfaces with optional members.
 *
 * @module
 */
import { type Btf, BtfCodec, type BtfTypeInfo } from '@bpfjs/btf';
import {
  BTF_INT_BOOL,
  BTF_INT_CHAR,
  BTF_KIND_ARRAY,
  BTF_KIND_CONST,
  BTF_KIND_ENUM,
  BTF_KIND_ENUM64,
  BTF_KIND_FLOAT,
  BTF_KIND_INT,
  BTF_KIND_PTR,
  BTF_KIND_RESTRICT,
  BTF_KIND_STRUCT,
  BTF_KIND_TYPE_TAG,
  BTF_KIND_TYPEDEF,
  BTF_KIND_UNION,
  BTF_KIND_VOLATILE,
} from '@bpfjs/uapi/linux/btf';

/** A TypeScript declaration the emitter produced for a named C type. */
export interface EmittedDecl {
  /** The TypeScript name (PascalCase of the C tag). */
  readonly tsName: string;
  /** `struct foo`, `union bar`, `enum baz`. */
  readonly cName: string;
  /** The declaration text (interface, or const object + type for enums). */
  readonly text: string;
}

// TypeScript's global names (and the skeleton's CharArray) are not given to C types
const RESERVED = new Set([
  'CharArray',
  'Object',
  'String',
  'Number',
  'Array',
  'Map',
  'Set',
  'Symbol',
  'Uint8Array',
  'Date',
  'Error',
  'Promise',
]);

/** `flow_keys` → `FlowKeys`. */
export function pascalCase(name: string): string {
  const parts = name.split(/[^A-Za-z0-9]+/).filter((p) => p.length > 0);
  let s = parts.map((p) => p[0]!.toUpperCase() + p.slice(1)).join('');
  if (s === '' || /^[0-9]/.test(s)) s = `T${s}`;
  return s;
}

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** A property key as TypeScript source (quoted when it is not an identifier). */
export function propKey(name: string): string {
  return IDENT.test(name) ? name : JSON.stringify(name);
}

/** Emits TypeScript types for BTF type ids; named structs/unions/enums become declarations. */
export class TypeEmitter {
  readonly #btf: Btf;
  readonly #decls = new Map<number, EmittedDecl>();
  readonly #order: number[] = [];
  readonly #names = new Set<string>(RESERVED);
  readonly #pending = new Set<number>();

  constructor(btf: Btf, reserved: Iterable<string> = []) {
    this.#btf = btf;
    for (const n of reserved) this.#names.add(n);
  }

  /** Reserves a TypeScript name (the module's own exports) so no C type takes it. */
  reserve(name: string): void {
    this.#names.add(name);
  }

  /** The declarations made so far, in dependency-first order. */
  declarations(): EmittedDecl[] {
    return this.#order.map((id) => this.#decls.get(id)!);
  }

  /**
   * Whether `BtfCodec` can encode values of `id` (the skeleton uses BTF codecs where it can and
   * bytes where it cannot: functions, forward declarations, odd floats).
   */
  codecOk(id: number): boolean {
    if (id === 0) return false;
    try {
      new BtfCodec(this.#btf, id);
      return true;
    } catch {
      return false;
    }
  }

  #skip(id: number): number {
    let t = this.#btf.type(id);
    for (let i = 0; i < 64; i++) {
      if (
        t.kind === BTF_KIND_TYPEDEF ||
        t.kind === BTF_KIND_CONST ||
        t.kind === BTF_KIND_VOLATILE ||
        t.kind === BTF_KIND_RESTRICT ||
        t.kind === BTF_KIND_TYPE_TAG
      ) {
        id = t.type as number;
        t = this.#btf.type(id);
      } else break;
    }
    return id;
  }

  #uniqueName(base: string): string {
    let name = base;
    for (let i = 2; this.#names.has(name); i++) name = `${base}${i}`;
    this.#names.add(name);
    return name;
  }

  /** The TypeScript type text of BTF type `id`, as `BtfCodec.decode` returns it. */
  typeOf(id: number, indent = ''): string {
    const rid = this.#skip(id);
    const t = this.#btf.type(rid);
    switch (t.kind) {
      case BTF_KIND_INT:
        return intType(t);
      case BTF_KIND_PTR:
        return 'bigint';
      case BTF_KIND_FLOAT:
        return 'number';
      case BTF_KIND_ENUM:
      case BTF_KIND_ENUM64:
        return t.name ? this.#named(rid, t) : enumUnion(t);
      case BTF_KIND_ARRAY: {
        const a = t.array as NonNullable<BtfTypeInfo['array']>;
        if (a.nelems > 0 && this.#isCharArray(a.type)) return 'CharArray';
        const elem = this.typeOf(a.type, indent);
        return /^[A-Za-z0-9_$]+$/.test(elem) ? `${elem}[]` : `(${elem})[]`;
      }
      case BTF_KIND_STRUCT:
      case BTF_KIND_UNION:
        return t.name ? this.#named(rid, t) : this.#objectLiteral(t, indent);
      default:
        return 'Uint8Array';
    }
  }

  #isCharArray(elemId: number): boolean {
    // as BtfCodec (and bpftool's is_str_array): qualifiers are followed, typedefs are not
    let e = this.#btf.type(elemId);
    for (
      let i = 0;
      i <= 32 && [BTF_KIND_CONST, BTF_KIND_VOLATILE, BTF_KIND_RESTRICT, BTF_KIND_TYPE_TAG].includes(e.kind);
      i++
    ) {
      e = this.#btf.type(e.type as number);
    }
    return (e.kind === BTF_KIND_INT &&
      e.size === 1 &&
      ((e.int?.encoding ?? 0) & BTF_INT_CHAR || e.name === 'char')) as boolean;
  }

  #named(id: number, t: BtfTypeInfo): string {
    const have = this.#decls.get(id);
    if (have) return have.tsName;
    const isEnum = t.kind === BTF_KIND_ENUM || t.kind === BTF_KIND_ENUM64;
    const cName = `${isEnum ? 'enum' : t.kind === BTF_KIND_UNION ? 'union' : 'struct'} ${t.name}`;
    // a recursive reference (through a pointer it would be a bigint; through a member it cannot be)
    const tsName = this.#uniqueName(pascalCase(t.name));
    const placeholder: EmittedDecl = { tsName, cName, text: '' };
    this.#decls.set(id, placeholder);
    this.#pending.add(id);
    let text: string;
    if (isEnum) {
      const values = t.values ?? [];
      const wide = t.kind === BTF_KIND_ENUM64;
      const entries = values.map((v) => {
        const n = BigInt(v.value);
        return `  ${propKey(v.name)}: ${wide ? `${n}n` : n.toString()},`;
      });
      text =
        `/** \`${cName}\`: enumerator values by name. */\n` +
        `export const ${tsName} = {\n${entries.join('\n')}\n} as const;\n` +
        `/** \`${cName}\` as decoded: an enumerator name, or the ${wide ? 'bigint' : 'number'} when none matches. */\n` +
        `export type ${tsName} = keyof typeof ${tsName} | ${wide ? 'bigint' : 'number'};\n`;
    } else {
      text = `/** \`${cName}\` (${t.size} bytes). */\nexport interface ${tsName} ${this.#objectLiteral(t, '')}\n`;
    }
    this.#decls.set(id, { tsName, cName, text });
    this.#pending.delete(id);
    this.#order.push(id);
    return tsName;
  }

  #objectLiteral(t: BtfTypeInfo, indent: string): string {
    const inner = `${indent}  `;
    const optional = t.kind === BTF_KIND_UNION ? '?' : '';
    const lines: string[] = [];
    for (const [name, type, opt] of this.#members(t, inner)) {
      lines.push(`${inner}${propKey(name)}${optional || (opt ? '?' : '')}: ${type};`);
    }
    if (lines.length === 0) return 'Record<string, never>';
    return `{\n${lines.join('\n')}\n${indent}}`;
  }

  /** Member name → type text, flattened through anonymous members as BtfCodec does. */
  #members(t: BtfTypeInfo, indent: string): [string, string, boolean][] {
    const out: [string, string, boolean][] = [];
    for (const m of t.members ?? []) {
      const bf = this.#btf.bitfield(m);
      if (bf) {
        if (!m.name) continue; // unnamed bit-fields are padding
        const storage = this.#btf.type(this.#btf.resolve(m.type));
        const wide = bf.bits > 32;
        if (storage.kind === BTF_KIND_INT && storage.int?.encoding === BTF_INT_BOOL)
          out.push([m.name, 'boolean', false]);
        else if (storage.kind === BTF_KIND_ENUM || storage.kind === BTF_KIND_ENUM64) {
          const e = storage.name ? this.#named(this.#btf.resolve(m.type), storage) : enumUnion(storage);
          out.push([m.name, storage.name && wide ? `${e} | bigint` : e, false]);
        } else out.push([m.name, wide ? 'bigint' : 'number', false]);
        continue;
      }
      if (m.name) {
        out.push([m.name, this.typeOf(m.type, indent), false]);
        continue;
      }
      const inner = this.#btf.type(this.#skip(m.type));
      if (inner.kind === BTF_KIND_STRUCT || inner.kind === BTF_KIND_UNION) {
        const sub = this.#members(inner, indent);
        // members of an anonymous union are alternatives: optional like a union's own
        for (const [n, ty, opt] of sub) out.push([n, ty, opt || inner.kind === BTF_KIND_UNION]);
      }
    }
    // the last of a repeated name wins, as in BtfCodec's member map
    const seen = new Map<string, [string, string, boolean]>();
    for (const m of out) seen.set(m[0], m);
    return [...seen.values()];
  }
}

function intType(t: BtfTypeInfo): string {
  const size = t.size as number;
  const int = t.int as NonNullable<BtfTypeInfo['int']>;
  if (int.offset !== 0 || int.bits !== size * 8) return int.bits > 32 ? 'bigint' : 'number';
  if (int.encoding === BTF_INT_BOOL) return 'boolean';
  return size > 4 ? 'bigint' : 'number';
}

function enumUnion(t: BtfTypeInfo): string {
  const names = (t.values ?? []).map((v) => JSON.stringify(v.name));
  return [...names, t.kind === BTF_KIND_ENUM64 ? 'bigint' : 'number'].join(' | ');
}
