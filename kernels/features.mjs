// The feature rows of the README's "Supported kernels" table. Each feature is proven by the tests
// whose `<file> > <full name>` matches `tests`; on a kernel the cell is
//   ✓  at least one matching test passed and none failed,
//   ✗  a matching test failed,
//   —  every matching test was skipped (the cell gives the gate's "needs Linux X" version),
//   …  the kernel's time limit ended the run before the tests got to it,
//   ?  no matching test ran (the test was renamed or removed: fix the pattern here).
// `since` is the upstream kernel version that introduced the feature, so the table can be checked
// against the kernel history (a ✓ below `since`, or a — above it, is a finding).

/** @type {{ name: string, since: string, tests: RegExp }[]} */
export const FEATURES = [
  {
    name: 'program load + info (BPF_PROG_LOAD, BPF_OBJ_GET_INFO_BY_FD)',
    since: '4.13',
    tests: /link\/src\/program\.test\.ts > .*loads with kernel type names/,
  },
  {
    name: 'flow dissector link in a netns (BPF_LINK_CREATE)',
    since: '5.8',
    tests: /link\/src\/flow-dissector\.test\.ts > .*link create → query shows the program/,
  },
  {
    name: 'netns link info (netns inode, attach type)',
    since: '5.8',
    tests: /link\/src\/flow-dissector\.test\.ts > .*info: id, type netns/,
  },
  {
    name: 'link vs. prog attach exclusivity (EEXIST / EINVAL)',
    since: '5.8',
    tests: /link\/src\/flow-dissector\.test\.ts > .*(then link create → EEXIST|then prog detach → EINVAL)/,
  },
  {
    name: 'netns link update (BPF_LINK_UPDATE: 5.7, netns links 5.8)',
    since: '5.8',
    tests: /link\/src\/flow-dissector\.test\.ts > .*update without replace/,
  },
  {
    name: 'link detach (BPF_LINK_DETACH)',
    since: '5.9',
    tests: /link\/src\/flow-dissector\.test\.ts > .*detach: the hook is free/,
  },
  {
    name: 'netns death auto-detaches its links (inode 0, ENOLINK)',
    since: '5.8',
    tests:
      /(link\/src\/flow-dissector|netns\/src\/teardown-link)\.test\.ts > .*(does not keep its netns alive|its link goes defunct)/,
  },
  {
    name: 'sk_lookup links: several per netns, run in order',
    since: '5.9',
    tests: /link\/src\/sk-lookup\.test\.ts > .*three links/,
  },
  {
    name: 'sk_lookup: 64 links, then E2BIG',
    since: '5.9',
    tests: /link\/src\/sk-lookup\.test\.ts > .*64 links fit/,
  },
  {
    name: 'sk_lookup steers connections (sockmap redirect)',
    since: '5.9',
    tests:
      /(testkit\/src\/sk-lookup|link\/src\/sk-lookup-traffic)\.test\.ts > .*(redirect: sockmap|connects)/,
  },
  {
    name: 'netns link pinning on bpffs (link pins: 5.7, netns links 5.8)',
    since: '5.8',
    tests: /link\/src\/pin\.test\.ts > .*pin, fromPin/,
  },
  {
    name: 'link ids and iteration (BPF_LINK_GET_NEXT_ID / _FD_BY_ID)',
    since: '5.8',
    tests: /link\/src\/iterate\.test\.ts > .*lists our links/,
  },
  {
    name: 'XDP link info (ifindex)',
    since: '5.9',
    tests: /link\/src\/other-links\.test\.ts > .*XDP link/,
  },
  {
    name: 'cgroup link info (cgroup id, attach type)',
    since: '5.8',
    tests: /link\/src\/other-links\.test\.ts > .*cgroup link/,
  },
  {
    name: 'tcx links',
    since: '6.6',
    tests: /link\/src\/other-links\.test\.ts > .*tcx link on lo/,
  },
  {
    name: 'raw tracepoint link info (tracepoint name)',
    since: '5.8',
    tests: /link\/src\/tracing-links\.test\.ts > .*raw tracepoint link/,
  },
  {
    name: 'iterator link info (target name) and reading it (BPF_ITER_CREATE)',
    since: '5.9',
    tests: /link\/src\/tracing-links\.test\.ts > .*iter link over tasks/,
  },
  {
    name: 'netfilter links',
    since: '6.4',
    tests: /link\/src\/tracing-links\.test\.ts > .*netfilter link at IPv4/,
  },
  {
    name: 'map freeze (BPF_MAP_FREEZE)',
    since: '5.2',
    tests: /map\/src\/map\.test\.ts > .*freeze: later writes are EPERM/,
  },
  {
    name: 'mmapable arrays (BPF_F_MMAPABLE, mapArray)',
    since: '5.5',
    tests: /map\/src\/map\.test\.ts > .*reads and writes elements through shared memory/,
  },
  {
    name: 'map batch operations (BPF_MAP_*_BATCH)',
    since: '5.6',
    tests: /map\/src\/map\.test\.ts > .*batch: setMany \/ deleteMany/,
  },
  {
    name: 'ring buffer maps (RingBuffer: mmap, poll wake-up)',
    since: '5.8',
    tests: /map\/src\/ringbuf\.test\.ts > .*(records in order|async iterator)/,
  },
  {
    name: 'user ring buffers (UserRingBuffer → bpf_user_ringbuf_drain)',
    since: '6.1',
    tests: /map\/src\/user-ringbuf\.test\.ts > .*a BPF program drains the records in order/,
  },
  {
    name: 'sockets made in a netns in a sockmap, steered by sk_lookup',
    since: '5.9',
    tests: /testkit\/src\/sk-lookup\.test\.ts > .*redirect: sockmap/,
  },
  {
    name: 'lookup-and-delete on hash maps',
    since: '5.14',
    tests: /map\/src\/map\.test\.ts > .*lookupAndDelete on a hash/,
  },
  {
    name: 'objects: BTF-defined maps (.maps, BTF key/value types), loaded as libbpf does',
    since: '5.2',
    tests: /object\/src\/oracle\.test\.ts > .*(sk_lookup|flow_dissector)\.c/,
  },
  {
    name: 'objects: global data (.data/.rodata/.bss maps, frozen .rodata, mmap)',
    since: '5.5',
    tests:
      /object\/src\/(sanitize\.test\.ts > .*without any newer kind|globals\.test\.ts > .*spec can be changed before load)/,
  },
  {
    name: "objects: CO-RE relocations against the kernel's own BTF",
    since: '5.4',
    tests: /object\/src\/(core\.test\.ts > .*every relocation kind|oracle\.test\.ts > .*core\.c)/,
  },
  {
    name: 'objects: .kconfig externs (LINUX_KERNEL_VERSION, CONFIG_*)',
    since: '5.2',
    tests: /object\/src\/(globals\.test\.ts > .*\.kconfig externs|oracle\.test\.ts > .*kconfig\.c)/,
  },
];

/** The cell of one feature on one kernel (`summary` as stored in results.json). */
export function featureCell(feature, summary) {
  const matching = (summary?.tests ?? []).filter((t) => feature.tests.test(`${t.file} > ${t.name}`));
  if (!matching.length && summary?.status === 'incomplete')
    return { mark: '…', detail: 'not reached in time' };
  if (!matching.length) return { mark: '?', detail: 'no test' };
  if (matching.some((t) => t.state !== 'pass' && t.state !== 'skip' && t.state !== 'todo')) {
    return { mark: '✗', detail: 'fails' };
  }
  if (matching.some((t) => t.state === 'pass')) return { mark: '✓' };
  const note = matching.map((t) => t.note).find(Boolean) ?? '';
  const version = /(\d+\.\d+)(?:\.\d+)? or newer|≥\s*(\d+\.\d+)|Linux (\d+\.\d+)/.exec(note);
  const v = version?.[1] ?? version?.[2] ?? version?.[3];
  return { mark: '—', detail: v ? `needs ≥ ${v}` : 'skipped' };
}
