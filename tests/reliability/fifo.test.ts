// A FIFO where a network namespace is expected must be refused at once, never hang the process
// (issue 19, defect 2): attachNetNs, queryPrograms, attachProgram and detachProgram open a path,
// and NetNs.fromFd reopens /proc/self/fd/N. Each call runs in a child on the built dist with a
// time limit, since before the fix open(O_RDONLY) of a FIFO without a writer blocked forever.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { requireKernel, scaleTimeout } from '@bpfjs/testkit';
import { afterAll, beforeAll, expect } from 'vitest';

const distMjs = fileURLToPath(new URL('./fixtures/dist.mjs', import.meta.url));
const kernel = requireKernel();

const script = `
import { constants, openSync } from 'node:fs';
const { dist } = await import(${JSON.stringify(distMjs)});
const { link, netns, asm } = await dist();
const [fifo, which] = process.argv.slice(1);
const insns = asm.assemble([asm.asm.mov64Imm(asm.R0, 0), asm.asm.exit()]);
const prog = link.Program.load({ type: 'flow_dissector', instructions: insns });
const calls = {
  attachNetNs: () => link.attachNetNs(prog, fifo),
  queryPrograms: () => link.queryPrograms(fifo, 'flow_dissector'),
  attachProgram: () => link.attachProgram(prog, { attachType: 'flow_dissector', netns: fifo }),
  detachProgram: () => link.detachProgram(prog, { attachType: 'flow_dissector', netns: fifo }),
  'NetNs.fromFd': () => netns.NetNs.fromFd(openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK)),
  'NetNs.open': () => netns.NetNs.open(fifo),
};
let code = 'returned';
try { calls[which](); } catch (e) { code = e.code; }
console.log(JSON.stringify({ code }));
process.exit(0);
`;

let dir = '';
kernel.describe('a FIFO given as a network namespace (child, built dist)', () => {
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'bpfjs-fifo-'));
    execFileSync('mkfifo', [join(dir, 'fifo')]);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const which of [
    'attachNetNs',
    'queryPrograms',
    'attachProgram',
    'detachProgram',
    'NetNs.fromFd',
    'NetNs.open',
  ]) {
    kernel.it(`${which} refuses it with ERR_BPFJS_NOT_NETNS instead of blocking`, () => {
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', script, join(dir, 'fifo'), which], {
        encoding: 'utf8',
        timeout: scaleTimeout(60_000),
        killSignal: 'SIGKILL',
      });
      const out = `${r.stdout}\n${r.stderr}`;
      expect(r.signal, `killed after the time limit (it hung): ${out}`).toBeNull();
      expect(r.status, out).toBe(0);
      expect(JSON.parse(r.stdout.trim()).code, out).toBe('ERR_BPFJS_NOT_NETNS');
    });
  }
});
