import { type Gate, requireExecutable, requireKernel, requireKernelVersion, tempBpffs } from '@bpfjs/testkit';
import { expect } from 'vitest';
import { BpfObject } from './index.js';
import { compile } from './test/compile.js';
import { describeCollection, libbpfLoad } from './test/oracle.js';

const gate = requireKernel().and(
  requireExecutable('clang', 'apt-get install clang'),
  requireExecutable('bpftool', 'apt-get install bpftool'),
);

// Each test object is loaded by libbpf (the system's libbpf-dev through a C harness) and by bpfjs;
// what the kernel ended up with must be identical: program types and translated instructions
// (map ids normalised to names), map types, sizes, flags, max entries, BTF key/value type names.
gate.describe('bpfjs loads objects exactly as libbpf does (needs root, clang, libbpf-dev)', () => {
  // What each object needs beyond BTF, global data and func info (all older than 5.10, the oldest
  // kernel of the matrix): bpf_loop callbacks (5.17), the bpf_task_acquire kfunc (6.2).
  const needs: Record<string, Gate> = {
    globals: requireKernelVersion('5.17', 'bpf_loop callbacks'),
    ksyms: requireKernelVersion('6.2', 'the bpf_task_acquire kfunc'),
  };
  for (const name of ['sk_lookup', 'globals', 'flow_dissector', 'kconfig', 'core', 'ksyms']) {
    const g = needs[name] === undefined ? gate : gate.and(needs[name]);
    g.it(`${name}.c`, () => {
      const path = compile(name, { vmlinux: name === 'core' || name === 'ksyms' });
      using fs = tempBpffs();
      const oracle = libbpfLoad(path, fs.path, fs.path);
      const obj = BpfObject.open(path);
      using coll = obj.load({ pinPath: fs.path });
      const mine = describeCollection(coll);
      expect(Object.keys(mine.programs).sort()).toEqual(Object.keys(oracle.programs).sort());
      for (const [pname, p] of Object.entries(oracle.programs)) {
        expect(mine.programs[pname]!.type, pname).toBe(p.type);
        expect(obj.programs.get(pname)!.expectedAttachTypeId ?? 0, pname).toBe(p.expectedAttachType);
        expect(mine.programs[pname]!.xlated, pname).toEqual(p.xlated);
      }
      expect(mine.maps).toEqual(oracle.maps);
    });
  }
});
