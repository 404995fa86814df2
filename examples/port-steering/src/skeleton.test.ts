/** The committed steering.skel.ts is current for steering.bpf.c, and an edit of the C is caught. */
import { fileURLToPath } from 'node:url';
import { bufferedIo, run } from '@bpfjs/cli';
import { runSkeletonDriftChecks } from '@bpfjs/testkit';

runSkeletonDriftChecks({
  source: fileURLToPath(new URL('./steering.bpf.c', import.meta.url)),
  skeleton: fileURLToPath(new URL('./steering.skel.ts', import.meta.url)),
  check: (object, skeleton) => run(['gen', 'skeleton', '--check', object, skeleton], bufferedIo()),
});
