/**
 * The programmatic API: `run(argv, io)` in-process with a buffered Io — exit statuses, where the
 * output goes, and that it never throws or exits the process.
 */
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
    expect(program.commands.map((c) => c.name())).toEqual(['link', 'prog', 'map', 'netns', 'object', 'demo']);
    const link = program.commands.find((c) => c.name() === 'link');
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
});
