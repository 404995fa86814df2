/**
 * Objects doing their job on the real kernel: the C sk_lookup dispatcher of test-progs/ steers
 * connections in a throwaway netns to the listening socket its SOCKHASH holds for the port, and
 * the C flow dissector fills struct bpf_flow_keys from Ethernet/IPv4/IPv6/TCP/UDP packets
 * (BPF_PROG_TEST_RUN).
 */
import { spawnSync } from 'node:child_process';
import { attachNetNs } from '@bpfjs/link';
import type { FdSource } from '@bpfjs/map';
import { getsockname } from '@bpfjs/sys';
import { requireExecutable, requireKernel, scaleTimeout, tempNetNs } from '@bpfjs/testkit';
import { expect } from 'vitest';
import { BpfObject } from './index.js';
import { compile } from './test/compile.js';
import { flowKeys, testRun } from './test/test-run.js';

const gate = requireKernel().and(
  requireExecutable('clang', 'apt-get install clang'),
  requireExecutable('nsenter'),
);

const CONNECT = `
const net = require('node:net');
const c = net.connect(Number(process.argv[1]), '127.0.0.1');
c.on('connect', () => { process.stdout.write('connected'); c.destroy(); });
c.on('error', (e) => process.stdout.write(String(e.code)));
`;

function inside(nsFd: number, args: string[]): string {
  const r = spawnSync('nsenter', [`--net=/proc/${process.pid}/fd/${nsFd}`, ...args], {
    encoding: 'utf8',
    timeout: scaleTimeout(20_000),
  });
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

const u32 = (n: number) => new Uint8Array(Uint32Array.of(n).buffer);
const u64 = (n: number) => new Uint8Array(BigUint64Array.of(BigInt(n)).buffer);

gate.describe('objects on real traffic (needs root, clang, nsenter)', () => {
  gate.it('the sk_lookup dispatcher steers a connection to the socket in its SOCKHASH', () => {
    const ns = tempNetNs();
    inside(ns.fd.fd, ['ip', 'link', 'set', 'lo', 'up']);
    // as in the README's example
    using server = ns.socket({ type: 'tcp' });
    const serverPort = getsockname(server).port;
    using coll = BpfObject.open(compile('sk_lookup')).load();
    coll.map<FdSource>('sockets').set(u32(7777), server);
    // Nobody listens on 7777 or 7778: without the dispatcher both are refused.
    expect(inside(ns.fd.fd, [process.execPath, '-e', CONNECT, '7777'])).toBe('ECONNREFUSED');
    using link = attachNetNs(coll.program('dispatch'), ns);
    expect(link.info()).toMatchObject({ type: 'netns', attachType: 'sk_lookup' });
    expect(inside(ns.fd.fd, [process.execPath, '-e', CONNECT, '7777'])).toBe('connected');
    expect(inside(ns.fd.fd, [process.execPath, '-e', CONNECT, '7778'])).toBe('ECONNREFUSED');
    expect(coll.variables.get('hits')!.getInt()).toBe(1n);
    expect(serverPort).not.toBe(7777);
  });

  gate.it('the flow dissector parses Ethernet/IPv4/IPv6/TCP/UDP into bpf_flow_keys', () => {
    using coll = BpfObject.open(compile('flow_dissector')).load();
    const prog = coll.program('dissect');
    const eth = (type: number) => [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, type >> 8, type & 0xff];
    const ports = (s: number, d: number) => [s >> 8, s & 0xff, d >> 8, d & 0xff];
    const tcp = (s: number, d: number) => [
      ...ports(s, d),
      0,
      0,
      0,
      1,
      0,
      0,
      0,
      0,
      0x50,
      0x02,
      0xff,
      0xff,
      0,
      0,
      0,
      0,
    ];
    const udp = (s: number, d: number) => [...ports(s, d), 0, 8, 0, 0];
    const ipv4 = (proto: number, l4: number[]) => [
      0x45,
      0,
      0,
      20 + l4.length,
      0,
      0,
      0x40,
      0,
      64,
      proto,
      0,
      0,
      10,
      0,
      0,
      1,
      10,
      0,
      0,
      2,
      ...l4,
    ];
    const v6addr = (last: number) => [0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), last];
    const ipv6 = (next: number, l4: number[]) => [
      0x60,
      0,
      0,
      0,
      0,
      l4.length,
      next,
      64,
      ...v6addr(1),
      ...v6addr(2),
      ...l4,
    ];

    let r = testRun(prog, Uint8Array.from([...eth(0x0800), ...ipv4(6, tcp(1234, 80))]));
    expect(r.retval).toBe(0); // BPF_OK
    expect(flowKeys(r.dataOut)).toMatchObject({
      nhoff: 14,
      thoff: 34,
      addrProto: 0x0800,
      ipProto: 6,
      sport: 1234,
      dport: 80,
      ipv4Src: '10.0.0.1',
      ipv4Dst: '10.0.0.2',
    });

    r = testRun(prog, Uint8Array.from([...eth(0x0800), ...ipv4(17, udp(53, 5353))]));
    expect(flowKeys(r.dataOut)).toMatchObject({ thoff: 34, ipProto: 17, sport: 53, dport: 5353 });

    r = testRun(prog, Uint8Array.from([...eth(0x86dd), ...ipv6(6, tcp(4000, 443))]));
    expect(flowKeys(r.dataOut)).toMatchObject({
      thoff: 54,
      addrProto: 0x86dd,
      ipProto: 6,
      sport: 4000,
      dport: 443,
    });

    r = testRun(prog, Uint8Array.from([...eth(0x86dd), ...ipv6(17, udp(9, 10))]));
    expect(flowKeys(r.dataOut)).toMatchObject({ thoff: 54, ipProto: 17, sport: 9, dport: 10 });

    // ARP is not dissected: BPF_DROP.
    r = testRun(prog, Uint8Array.from([...eth(0x0806), ...new Array(28).fill(0)]));
    expect(r.retval).toBe(2);
    // the program counted every run in its array map
    expect(coll.map('dissected').get(u32(0))).toEqual(u64(5));
  });
});
