/**
 * Counters and ring buffer events for real datagrams: in a throwaway netns a UDP socket with the
 * filter receives datagrams from another socket; the per-CPU counters and the events read through
 * the ring buffer's async iterator must match what was sent, datagram for datagram.
 */

import { execFileSync } from 'node:child_process';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { deferCleanup, requireKernel, requireKernelVersion, tempNetNs, waitFor } from '@bpfjs/testkit';
import { expect } from 'vitest';
import { type DatagramEvent, UdpCounters } from './counters.js';

const kernel = requireKernel();

kernel.describe('counters: socket filter → per-CPU counters + ring buffer (needs root, Linux 5.8+)', () => {
  kernel.it('counts and reports every datagram a socket receives', async (ctx) => {
    requireKernelVersion('5.8', 'BPF ring buffers')(ctx);
    const ns = tempNetNs();
    ns.run(() => execFileSync('ip', ['link', 'set', 'lo', 'up']));
    const rx = ns.socket({ type: 'udp' });
    using counters = UdpCounters.attach(rx);
    const received: string[] = [];
    const receiver = dgram.createSocket('udp4', (msg) => received.push(msg.toString()));
    const receiverReady = once(receiver, 'listening'); // emitted within bind() for an fd
    receiver.bind({ fd: rx.disown() });
    deferCleanup('receiver', () => receiver.close());
    await receiverReady;
    const sender = dgram.createSocket('udp4');
    const senderReady = once(sender, 'listening');
    sender.bind({ fd: ns.socket({ type: 'udp' }).disown() });
    deferCleanup('sender', () => sender.close());
    await senderReady;
    const { port } = receiver.address();

    const sent = Array.from({ length: 100 }, (_, i) => `msg-${i}-${'x'.repeat(i % 23)}`);
    for (const text of sent) {
      await new Promise<void>((resolve, reject) =>
        sender.send(text, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())),
      );
    }
    await waitFor(() => received.length === sent.length, { description: 'every datagram received' });
    expect(received).toEqual(sent); // the filter accepts everything unchanged

    const bytes = sent.reduce((n, text) => n + 8 + Buffer.byteLength(text), 0);
    expect(counters.totals()).toEqual({ packets: 100n, bytes: BigInt(bytes), droppedEvents: 0n });
    const events: DatagramEvent[] = [];
    for await (const event of counters.events()) {
      events.push(event);
      if (events.length === sent.length) break;
    }
    expect(events).toEqual(
      sent.map((text) => ({
        sport: sender.address().port,
        dport: port,
        len: 8 + Buffer.byteLength(text),
        payload: text.slice(0, 16),
      })),
    );
    console.log(
      `counters: ${received.length} datagrams received, totals ${JSON.stringify(counters.totals(), (_, v) => (typeof v === 'bigint' ? Number(v) : v))}`,
    );
  });
});
