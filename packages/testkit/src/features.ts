/**
 * `requireFeature(name)`: a gate over the kernel feature probes of `@bpfjs/sys`.
 *
 * @module
 */
import { BpfError, requireFeature as sysRequireFeature, UnsupportedFeatureError } from '@bpfjs/sys';
import {
  bpf_attach_type,
  bpf_attach_type_name,
  bpf_cmd,
  bpf_cmd_name,
  bpf_link_type,
  bpf_link_type_name,
  bpf_prog_type,
  bpf_prog_type_name,
} from '@bpfjs/uapi/linux/bpf';
import { TestkitTypeError } from './errors.js';
import { type Gate, makeGate } from './gates.js';

/** The kinds of feature the sys probes know. */
export type FeatureKind = 'command' | 'progType' | 'attachType' | 'linkType';

const KINDS: ReadonlyArray<{
  kind: FeatureKind;
  prefixes: readonly string[];
  enumeration: Readonly<Record<string, number>>;
  names: Readonly<Record<number, string>>;
}> = [
  { kind: 'command', prefixes: ['command', 'cmd'], enumeration: bpf_cmd, names: bpf_cmd_name },
  {
    kind: 'progType',
    prefixes: ['prog_type', 'progType', 'program'],
    enumeration: bpf_prog_type,
    names: bpf_prog_type_name,
  },
  {
    kind: 'attachType',
    prefixes: ['attach_type', 'attachType', 'attach'],
    enumeration: bpf_attach_type,
    names: bpf_attach_type_name,
  },
  {
    kind: 'linkType',
    prefixes: ['link_type', 'linkType', 'link'],
    enumeration: bpf_link_type,
    names: bpf_link_type_name,
  },
];

/**
 * Parses a feature name into the sys probe's `(kind, C name)`: a C enumerator
 * (`'BPF_LINK_TYPE_NETNS'`, `'BPF_PROG_TYPE_SK_LOOKUP'`, `'BPF_SK_LOOKUP'`, `'BPF_LINK_CREATE'`)
 * or `kind:short` with bpftool's names (`'link_type:netns'`, `'prog_type:sk_lookup'`,
 * `'attach_type:sk_lookup'`, `'command:link_create'`).
 * @throws {TestkitTypeError} `ERR_INVALID_ARG_VALUE` for a name none of the enums has, or one
 *   that is ambiguous.
 */
export function parseFeature(name: string): { kind: FeatureKind; name: string } {
  if (typeof name !== 'string' || name === '') {
    throw new TestkitTypeError(
      'ERR_INVALID_ARG_TYPE',
      `a feature name must be a non-empty string, got ${String(name)}`,
    );
  }
  const colon = name.indexOf(':');
  if (colon > 0) {
    const prefix = name.slice(0, colon);
    const short = name.slice(colon + 1).trim();
    const k = KINDS.find((x) => x.prefixes.includes(prefix));
    if (k === undefined) {
      throw new TestkitTypeError(
        'ERR_INVALID_ARG_VALUE',
        `unknown feature kind ${JSON.stringify(prefix)}; use command:, prog_type:, attach_type: or link_type:`,
      );
    }
    if (short in k.enumeration) return { kind: k.kind, name: short };
    for (const [value, n] of Object.entries(k.names)) {
      if (n === short) {
        const cName = Object.keys(k.enumeration).find(
          (key) => k.enumeration[key] === Number(value) && !key.startsWith('__'),
        );
        if (cName !== undefined) return { kind: k.kind, name: cName };
      }
    }
    throw new TestkitTypeError(
      'ERR_INVALID_ARG_VALUE',
      `${JSON.stringify(short)} is not a known ${prefix} in the uapi headers`,
    );
  }
  const hits = KINDS.filter((k) => name in k.enumeration && !name.startsWith('__'));
  if (hits.length === 1) return { kind: hits[0]!.kind, name };
  if (hits.length > 1) {
    throw new TestkitTypeError(
      'ERR_INVALID_ARG_VALUE',
      `${name} is ambiguous (${hits.map((h) => h.kind).join(', ')}); write it as kind:name`,
    );
  }
  throw new TestkitTypeError(
    'ERR_INVALID_ARG_VALUE',
    `unknown feature ${JSON.stringify(name)}: give a bpf_cmd, bpf_prog_type, bpf_attach_type or bpf_link_type enumerator, or kind:name (e.g. 'link_type:netns')`,
  );
}

/**
 * Gate: the running kernel has the feature, by the probes of `@bpfjs/sys` (cached per process).
 * The skip reason names the feature and the first kernel that has it; a probe that cannot run
 * (EPERM) says which privileges are missing.
 * @throws {TestkitTypeError} for an unknown feature name (see {@link parseFeature}).
 */
export function requireFeature(name: string): Gate {
  const f = parseFeature(name);
  if (process.platform !== 'linux')
    return makeGate(`needs ${f.name} on a Linux kernel (this is ${process.platform})`);
  try {
    sysRequireFeature(f.kind, f.name);
    return makeGate(undefined);
  } catch (e) {
    if (UnsupportedFeatureError.isInstance(e)) return makeGate(`${e.message}: run on a kernel that has it`);
    if (BpfError.isInstance(e) && e.code === 'EPERM') {
      return makeGate(`cannot probe ${f.name} without privileges (${e.hint ?? 'EPERM'}): run as root`);
    }
    throw e;
  }
}
