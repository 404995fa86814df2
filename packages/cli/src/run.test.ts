/**
 * The programmatic API: `run(argv, io)` in-process with a buffered Io — exit statuses, where the
 * output goes, and that it never throws or exits the process.
 */
import { NetNs } from '@bpfjs/netns';
import { requireKernel } from '@bpfjs/testkit';
import { describe, expect, it } from 'vitest';
import { bufferedIo, createProgram, run, VERSION } from './index.js';

describe('run()', () => {
  it('prints help to stdout and resolves 0', async () => {
    const io = bufferedIo();
    expect(await run(['--help'], io)).toBe(0);
    expect(io.stdout).toContain('Usage: bpfjs [options] [command]');
    expect(io.stdout).toContain('demo');
    expect(io.stderr).toBe('');
  });

  it('prints the version', async () => {
    const io = bufferedIo();
    expect(await run(['-V'], io)).toBe(0);
    expect(io.stdout).toBe(`${VERSION}\n`);
  });

  it('resolves 2 for bad usage, with the message on stderr', async () => {
    const io = bufferedIo();
    expect(await run(['link', 'show', ''], io)).toBe(2);
    expect(io.stderr).toMatch(/^bpfjs: usage: <link>: expected an id or a pinned path/);
    const io2 = bufferedIo();
    expect(await run(['nope'], io2)).toBe(2);
    expect(io2.stderr).toMatch(/^bpfjs: usage: unknown command 'nope'/);
    expect(io2.stdout).toBe('');
  });

  it('can be run many times in one process (a fresh command tree each time)', async () => {
    for (let i = 0; i < 3; i++) {
      const io = bufferedIo();
      expect(await run(['prog', '--help'], io)).toBe(0);
      expect(io.stdout).toContain('Usage: bpfjs prog');
    }
  });

  it('createProgram builds the command tree', () => {
    const program = createProgram(bufferedIo());
    expect(program.commands.map((c) => c.name())).toEqual([
      'link',
      'prog',
      'map',
      'netns',
      'object',
      'gen',
      'demo',
    ]);
    const link = program.commands.find((c) => c.name() === 'link');
    const prog = program.commands.find((c) => c.name() === 'prog');
    expect(prog?.commands.map((c) => c.name())).toEqual(['list', 'show', 'loadall']);
    expect(link?.commands.map((c) => c.name())).toEqual(['list', 'show', 'pin', 'update', 'detach']);
    const map = program.commands.find((c) => c.name() === 'map');
    expect(map?.commands.map((c) => c.name())).toEqual([
      'list',
      'show',
      'dump',
      'lookup',
      'update',
      'delete',
      'pin',
      'freeze',
    ]);
  });

  requireKernel().it('resolves 1 with bpfjs: <code>: <message> for a kernel failure', async () => {
    const io = bufferedIo();
    expect(await run(['prog', 'show', '4294967295'], io)).toBe(1);
    expect(io.stderr).toMatch(/^bpfjs: ENOENT: program 4294967295: /);
    const json = bufferedIo();
    expect(await run(['link', 'list', '--json'], json)).toBe(0);
    expect(Array.isArray(JSON.parse(json.stdout))).toBe(true);
  });

  requireKernel().it(
    '--json failures are JSON on stdout like bpftool, exit codes kept (#19 defect 12)',
    async () => {
      const io = bufferedIo();
      expect(await run(['--json', 'prog', 'show', '4294967295'], io)).toBe(1);
      expect(JSON.parse(io.stdout)).toMatchObject({
        error: expect.stringMatching(/program 4294967295/),
        code: 'ENOENT',
      });
      expect(io.stderr).toMatch(/^bpfjs: ENOENT: /);
      const pretty = bufferedIo();
      expect(await run(['prog', 'show', '4294967295', '-p'], pretty)).toBe(1);
      expect(pretty.stdout).toMatch(/^\{\n {2}"error": /);
      const usage = bufferedIo();
      expect(await run(['-j', 'link', 'show', '0'], usage)).toBe(2);
      expect(JSON.parse(usage.stdout)).toHaveProperty('error');
      const parser = bufferedIo();
      expect(await run(['--json', 'bogus'], parser)).toBe(2);
      expect(JSON.parse(parser.stdout)).toHaveProperty('error');
    },
  );

  requireKernel().it('control characters in names are escaped in human output (#19 defect 11)', async () => {
    const names = [`bpfjs-test-${process.pid}-a\nFAKE-ROW 1 - -`, `bpfjs-test-${process.pid}-b\u001b[31mred`];
    const made = names.map((name) => NetNs.create({ name }));
    try {
      const io = bufferedIo();
      expect(await run(['netns', 'list'], io)).toBe(0);
      expect(io.stdout).not.toContain('\u001b');
      expect(io.stdout.split('\n').some((l) => l.startsWith('FAKE-ROW'))).toBe(false);
      expect(io.stdout).toContain(`bpfjs-test-${process.pid}-a\\nFAKE-ROW`);
      expect(io.stdout).toContain(`bpfjs-test-${process.pid}-b\\x1b[31mred`);
      const show = bufferedIo();
      expect(await run(['netns', 'show', names[1] as string], show)).toBe(0);
      expect(show.stdout).not.toContain('\u001b');
      const missing = bufferedIo();
      expect(await run(['netns', 'show', 'nope\u001b[2J'], missing)).toBe(1);
      expect(missing.stderr).not.toContain('\u001b');
      // JSON keeps the names exactly (JSON escapes them itself).
      const json = bufferedIo();
      expect(await run(['netns', 'list', '--json'], json)).toBe(0);
      const listed = (JSON.parse(json.stdout) as Array<{ name: string }>).map((r) => r.name);
      for (const n of names) expect(listed).toContain(n);
    } finally {
      for (const ns of made) {
        ns.delete();
        ns.close();
      }
    }
  });
});
