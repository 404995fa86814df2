// The ready sk_lookup programs doing their job on real traffic: a TCP connection to a port nothing
// listens on is steered to a socket held in a SOCKMAP; 'drop' refuses a connection to a listening
// port. Runs in a throwaway netns, on a worker thread that entered it (NetNs.runInWorker).
import { fileURLToPath } from 'node:url';
import { attachNetNs } from '@bpfjs/link';
import { expect, it } from 'vitest';
import { skLookupProgram, tempNetNs, tempSockmap } from './fixtures.js';
import { requireKernel, requireKernelVersion } from './gates.js';

const worker = fileURLToPath(new URL('./test/sk-lookup-worker.mjs', import.meta.url));

requireKernel()
  .and(requireKernelVersion('5.9', 'sk_lookup'))
  .describe('sk_lookup ready programs on real connections', () => {
    it('without a program: connecting to a port nothing listens on is refused', async () => {
      const ns = tempNetNs();
      const r = await ns.runInWorker(worker, 'scenario', [{ connectTo: 'other' }]);
      expect(r).toMatchObject({ error: 'ECONNREFUSED' });
    });

    it('{ redirect: sockmap } steers the connection to the socket in the map', async () => {
      const ns = tempNetNs();
      const map = tempSockmap();
      const prog = skLookupProgram({ verdict: { redirect: map } });
      using _link = attachNetNs(prog, ns);
      // The socket is made inside the netns and goes into the map before Node serves on it.
      const sock = ns.socket({ type: 'tcp', host: '127.0.0.1', port: 0 });
      map.set(0, sock);
      const r = await ns.runInWorker(worker, 'scenario', [{ fd: sock.disown(), connectTo: 'other' }]);
      expect(r).toMatchObject({ data: 'hello from the redirect target' });
    });

    it('{ redirect } with an empty map slot drops (connection refused)', async () => {
      const ns = tempNetNs();
      const map = tempSockmap();
      const prog = skLookupProgram({ verdict: { redirect: map } });
      using _link = attachNetNs(prog, ns);
      const r = await ns.runInWorker(worker, 'scenario', [{ connectTo: 'same' }]);
      expect(r).toMatchObject({ error: 'ECONNREFUSED' });
    });

    it("'drop' refuses a connection to a listening port; 'pass' lets it through", async () => {
      const ns = tempNetNs();
      {
        using _link = attachNetNs(skLookupProgram({ verdict: 'drop' }), ns);
        const r = await ns.runInWorker(worker, 'scenario', [{ connectTo: 'same' }]);
        expect(r).toMatchObject({ error: 'ECONNREFUSED' });
      }
      using _link = attachNetNs(skLookupProgram({ verdict: 'pass' }), ns);
      const r = await ns.runInWorker(worker, 'scenario', [{ connectTo: 'same' }]);
      expect(r).toMatchObject({ data: 'hello from the redirect target' });
    });
  });
