// The kernel's own view of a netns ending: a flow-dissector link attached to it goes defunct
// (link info netns_ino 0) once the netns is destroyed. waitForTeardown() only sees /proc; this
// checks that what it waits for is followed by the real end, and that holding the NetNs open
// keeps the netns alive. Uses sys directly (netns may not import @bpfjs/link).
// A flow dissector in a non-init netns: fails with EEXIST while a serial test has one in the init
// netns (re-run before debugging).
import { linkCreate, linkGetInfo, progLoad } from '@bpfjs/sys';
import { requireKernel } from '@bpfjs/testkit';
import { expect, it } from 'vitest';
import { NetNs } from './netns.js';
import { waitForTeardown } from './teardown.js';

// include/uapi/linux/bpf.h
const BPF_PROG_TYPE_FLOW_DISSECTOR = 22;
const BPF_FLOW_DISSECTOR = 17;

/** `r0 = 0 (BPF_OK); exit`: the smallest flow dissector the verifier accepts. */
function okProgram(): Uint8Array {
  const insns = new Uint8Array(16);
  insns[0] = 0xb7; // BPF_ALU64 | BPF_MOV | BPF_K, dst r0, imm 0
  insns[8] = 0x95; // BPF_JMP | BPF_EXIT
  return insns;
}

async function pollUntil(what: string, fn: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let wait = 1;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, wait));
    wait = Math.min(wait * 2, 50);
  }
}

requireKernel().describe('netns teardown as the kernel reports it (needs root, Linux >= 5.8)', () => {
  it('an anonymous netns lives while open and is destroyed after close(): its link goes defunct', async () => {
    using prog = progLoad({
      type: BPF_PROG_TYPE_FLOW_DISSECTOR,
      insns: okProgram(),
      license: 'GPL',
      name: 'netns_td_test',
    });
    const ns = NetNs.create();
    const { inode } = ns;
    let link: ReturnType<typeof linkCreate> | undefined;
    try {
      link = linkCreate({ progFd: prog, targetFd: ns.fd, attachType: BPF_FLOW_DISSECTOR });
      expect((linkGetInfo(link) as { netnsInode?: number }).netnsInode).toBe(inode);
    } finally {
      ns.close();
    }
    try {
      await waitForTeardown(inode, { timeoutMs: 10_000 });
      // Destruction runs on a workqueue after the last reference: poll for its effect.
      await pollUntil(
        'the link to report netns_ino 0',
        () => (linkGetInfo(link!) as { netnsInode?: number }).netnsInode === 0,
        10_000,
      );
    } finally {
      link.close();
    }
  });

  it('a named netns outlives close() until delete()', async () => {
    using prog = progLoad({
      type: BPF_PROG_TYPE_FLOW_DISSECTOR,
      insns: okProgram(),
      license: 'GPL',
      name: 'netns_td_test',
    });
    const ns = NetNs.create({ name: `bpfjs-test-${process.pid}-td` });
    const control = NetNs.create();
    const { inode } = ns;
    let deleted = false;
    try {
      using link = linkCreate({ progFd: prog, targetFd: ns.fd, attachType: BPF_FLOW_DISSECTOR });
      using controlLink = linkCreate({ progFd: prog, targetFd: control.fd, attachType: BPF_FLOW_DISSECTOR });
      ns.close();
      control.close();
      // The kernel destroys released namespaces in batches on one workqueue: once the control
      // netns (released after ours) is gone, ours would be gone too, were it not for the bind mount.
      await pollUntil(
        'the control link to go defunct',
        () => (linkGetInfo(controlLink) as { netnsInode?: number }).netnsInode === 0,
        10_000,
      );
      expect((linkGetInfo(link) as { netnsInode?: number }).netnsInode).toBe(inode);
      ns.delete();
      deleted = true;
      await waitForTeardown(inode, { timeoutMs: 10_000 });
      await pollUntil(
        'the link to report netns_ino 0',
        () => (linkGetInfo(link) as { netnsInode?: number }).netnsInode === 0,
        10_000,
      );
    } finally {
      ns.close();
      control.close();
      if (!deleted) ns.delete();
    }
  });
});
