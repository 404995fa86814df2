// The printing maps against bpftool itself: every program and map type the running kernel
// supports, as `bpftool feature probe kernel` names it, must be the name our map prints.

import { execFileSync } from 'node:child_process';
import { requireKernel } from '@bpfjs/testkit';
import { expect, it } from 'vitest';
import { bpf_map_type_name, bpf_prog_type_name } from './generated/linux/bpf.js';

function bpftoolProbe(): string | undefined {
  try {
    return execFileSync('bpftool', ['feature', 'probe', 'kernel'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
  } catch {
    return undefined;
  }
}

requireKernel().describe('printing names', () => {
  it('match what bpftool prints for program and map types', () => {
    const out = bpftoolProbe();
    if (out === undefined) throw new Error('bpftool is missing (scripts/setup installs it)');
    const seen = { program_type: [] as string[], map_type: [] as string[] };
    for (const m of out.matchAll(/^eBPF (program_type|map_type) (\S+) is (?:NOT )?available$/gm)) {
      seen[m[1] as keyof typeof seen].push(m[2] as string);
    }
    expect(seen.program_type.length).toBeGreaterThan(20);
    expect(seen.map_type.length).toBeGreaterThan(20);
    const ours = {
      program_type: new Set(Object.values(bpf_prog_type_name)),
      map_type: new Set(Object.values(bpf_map_type_name)),
    };
    const unknown = [
      ...seen.program_type.filter((n) => !ours.program_type.has(n)).map((n) => `program_type ${n}`),
      ...seen.map_type.filter((n) => !ours.map_type.has(n)).map((n) => `map_type ${n}`),
    ];
    expect(unknown).toEqual([]);
  });
});
