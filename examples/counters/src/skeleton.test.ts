/** The committed counters.skel.ts is current for counters.bpf.c, and an edit of the C is caught. */
import { fileURLToPath } from 'node:url';
import { bufferedIo, run } from '@bpfjs/cli';
import { runSkeletonDriftChecks } from '@bpfjs/testkit';

runSkeletonDriftChecks({
  source: fileURLToPath(new URL('./counters.bpf.c', import.meta.url)),
  skeleton: fileURLToPath(new URL('./counters.skel.ts', import.meta.url)),
  check: (object, skeleton) => run(['gen', 'skeleton', '--check', object, skeleton], bufferedIo()),
});
