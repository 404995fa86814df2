// libuv starts its thread pool lazily, from whichever thread makes the first request, and threads
// inherit the netns of their creator. A process whose first async fs call happens inside run()
// must still have its pool outside. Needs a fresh process (the test runner's pool is already
// running): runs the built package (packages/netns/dist) as CommonJS, which loads without the pool.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { requireKernel } from '@bpfjs/testkit';
import { expect, it } from 'vitest';

const dist = fileURLToPath(new URL('../dist/index.cjs', import.meta.url));

const script = `
const { readlinkSync } = require('node:fs');
const { readlink } = require('node:fs/promises');
const { NetNs } = require(${JSON.stringify(dist)});
const outside = readlinkSync('/proc/thread-self/ns/net');
const name = process.argv[1];
// fromName() never switches, so run() is the first call that has to start the pool.
const ns = name ? NetNs.fromName(name) : NetNs.create();
let first;
ns.run(() => { first = readlink('/proc/thread-self/ns/net'); });
first.then(async (pool) => {
  const later = await readlink('/proc/thread-self/ns/net');
  process.stdout.write(JSON.stringify({ outside, inside: 'net:[' + ns.inode + ']', pool, later }));
  ns.close();
});
`;

requireKernel().describe('the libuv thread pool (needs root and the built dist)', () => {
  const IP = ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip', '/bin/ip'].find((p) => existsSync(p));
  const check = (args: string[]) => {
    expect(existsSync(dist), `${dist} (run pnpm build)`).toBe(true);
    const out = JSON.parse(execFileSync(process.execPath, ['-e', script, ...args], { encoding: 'utf8' }));
    expect(out.inside).not.toBe(out.outside);
    expect(out.pool).toBe(out.outside);
    expect(out.later).toBe(out.outside);
  };

  it('stays outside when the first pool request is made inside run() after create()', () => {
    check([]);
  });

  it.skipIf(IP === undefined)(
    'stays outside when run() is the first switch (netns from ip netns add)',
    () => {
      const name = `bpfjs-test-${process.pid}-pool`;
      execFileSync(IP!, ['netns', 'add', name]);
      try {
        check([name]);
      } finally {
        execFileSync(IP!, ['netns', 'del', name]);
      }
    },
  );
});
