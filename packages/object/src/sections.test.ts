/**
 * The SEC() table against libbpf's: one generated object with a program in every section the
 * table knows (`kprobe+` as `kprobe`), opened by the system's libbpf (harness `open`: its own SEC()
 * table, no load) and by bpfjs. Where libbpf knows the section (libbpf-dev may be older than the
 * table), program type and expected attach type must be the same. Then the loadable ones go into
 * the kernel: each `Program` of the Collection keeps the expected attach type it was loaded with
 * (the kernel's info does not report it), and the kernel accepted it (ctx access of cgroup/sock_addr
 * programs depends on it).
 */
import { execFileSync } from 'node:child_process';
import { requireExecutable, requireFeature, requireKernel } from '@bpfjs/testkit';
import { expect } from 'vitest';
import { BpfObject, sectionDef, sectionPatterns } from './index.js';
import { compile } from './test/compile.js';
import { harness } from './test/oracle.js';

const tools = requireExecutable('clang', 'apt-get install clang').and(
  requireExecutable('cc', 'apt-get install gcc libbpf-dev'),
);

/** A C object with one `return 1` program per SEC() pattern (named p0, p1, ... in table order). */
function tableObject(): { path: string; sections: string[] } {
  const sections = sectionPatterns().map((p) => p.replace(/\+$/, ''));
  let c = '#include <linux/bpf.h>\n#include <bpf/bpf_helpers.h>\n';
  sections.forEach((s, i) => {
    c += `SEC("${s}") int p${i}(void *ctx) { return 1; }\n`;
  });
  c += 'char _license[] SEC("license") = "GPL";\n';
  return { path: compile('sec_table', { source: c }), sections };
}

tools.describe('SEC() table', () => {
  tools.it('program type and expected attach type of every section libbpf knows are libbpf’s', () => {
    const { path, sections } = tableObject();
    const spec = BpfObject.open(path);
    const report = JSON.parse(execFileSync(harness(), ['open', path], { encoding: 'utf8' })) as {
      programs: { name: string; section: string; type: number; expectedAttachType: number }[];
    };
    expect(report.programs).toHaveLength(sections.length);
    let compared = 0;
    for (const lb of report.programs) {
      const p = spec.programs.get(lb.name)!;
      expect(p.section).toBe(lb.section);
      const def = sectionDef(p.section);
      // the spec says what the table says
      expect(p.typeId, p.section).toBe(def.progType);
      expect(p.expectedAttachTypeId, p.section).toBe(def.expectedAttachType);
      if (def.expectedAttachType !== undefined) expect(p.expectedAttachType, p.section).toBeTypeOf('string');
      else expect(p.expectedAttachType, p.section).toBeUndefined();
      if (lb.type === 0) continue; // a section newer than this libbpf
      compared++;
      expect({ section: p.section, type: p.typeId, expectedAttachType: p.expectedAttachTypeId ?? 0 }).toEqual(
        {
          section: lb.section,
          type: lb.type,
          expectedAttachType: lb.expectedAttachType,
        },
      );
    }
    // libbpf 1.1 (Debian 12) knows 81 of them; any libbpf knows most
    expect(compared).toBeGreaterThan(sections.length / 2);
  });

  // Sections whose program loads as `return 1` (recvmsg hooks accept nothing else) without an attach target, with the feature the
  // kernel needs for it (the matrix runs this on 5.10 and up).
  const loadable: [section: string, feature: string][] = [
    ['socket', 'prog_type:socket_filter'],
    ['sk_lookup', 'prog_type:sk_lookup'],
    ['xdp', 'prog_type:xdp'],
    ['flow_dissector', 'prog_type:flow_dissector'],
    ['cgroup_skb/ingress', 'prog_type:cgroup_skb'],
    ['cgroup_skb/egress', 'prog_type:cgroup_skb'],
    ['cgroup/sock_create', 'prog_type:cgroup_sock'],
    ['cgroup/post_bind4', 'prog_type:cgroup_sock'],
    ['cgroup/connect4', 'prog_type:cgroup_sock_addr'],
    ['cgroup/connect6', 'prog_type:cgroup_sock_addr'],
    ['cgroup/sendmsg4', 'prog_type:cgroup_sock_addr'],
    ['cgroup/recvmsg4', 'prog_type:cgroup_sock_addr'],
    ['cgroup/sysctl', 'prog_type:cgroup_sysctl'],
    ['cgroup/getsockopt', 'prog_type:cgroup_sockopt'],
    ['cgroup/setsockopt', 'prog_type:cgroup_sockopt'],
    ['cgroup/dev', 'prog_type:cgroup_device'],
    ['sockops', 'prog_type:sock_ops'],
    ['sk_msg', 'prog_type:sk_msg'],
    ['sk_skb/stream_verdict', 'prog_type:sk_skb'],
  ];
  for (const [section, feature] of loadable) {
    const gate = requireKernel().and(tools, requireFeature(feature));
    gate.it(`${section}: the loaded Program keeps the expected attach type`, () => {
      const { path, sections } = tableObject();
      const spec = BpfObject.open(path);
      const name = `p${sections.indexOf(section)}`;
      const p = spec.programs.get(name)!;
      expect(p.section).toBe(section);
      using coll = spec.load({ programs: [name] });
      const prog = coll.program(name);
      expect(prog.typeId).toBe(p.typeId);
      expect(prog.expectedAttachType).toBe(p.expectedAttachType);
      if (section !== 'socket') expect(prog.expectedAttachType).toBeTypeOf('string');
    });
  }
});
