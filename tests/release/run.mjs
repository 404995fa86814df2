#!/usr/bin/env node
// `pnpm test:release`: publish every package the way a release does and install it the way a user
// does, against a real npm registry on 127.0.0.1.
//
// 1. Starts Verdaccio (tests/release/registry, pinned; `npm ci` there on first use) with a
//    throwaway storage, on a free port of 127.0.0.1, serving the @bpfjs scope only.
// 2. Copies the built workspace into a staging directory and runs `changeset publish` there
//    (pnpm publish per package, the workspace's beforePacking hook, workspace: ranges rewritten),
//    for every package under packages/ that is not private — new packages included.
// 3. Checks each published tarball (scripts/lib/tarball.mjs: LICENSE, no scripts, no unused files).
// 4. In clean directories, installs layers one at a time with plain npm (@bpfjs from the local
//    registry, the rest from the usual registry) and runs a program against each installed copy,
//    ESM and CommonJS: uapi alone; sys; link + netns + asm; btf + map + object; cli and its `bpfjs` bin; testkit with
//    the newest vitest its peer range allows; every package type-checked by a TypeScript consumer
//    under node10, node16 and bundler resolution, with and without esModuleInterop.
// 5. Publishes a second version through `changeset version` + `changeset publish` (a patch of
//    @bpfjs/sys, which bumps its dependents) and installs the newer @bpfjs/link with the older
//    @bpfjs/sys pinned beside it.
// Verdaccio is stopped by its pid at the end, also on failure. Ends with `release: N passed, N failed`.
import { execFileSync, spawn } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tarballProblems } from '../../scripts/lib/tarball.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const registryDir = join(root, 'tests/release/registry');
const keep = process.env.BPFJS_RELEASE_KEEP === '1';
const work = mkdtempSync(join(tmpdir(), 'bpfjs-release-'));
const started = Date.now();
const results = [];
let verdaccio;
let verdaccioOutput = '';

const log = (line) => process.stdout.write(`${line}\n`);
const seconds = (since) => `${((Date.now() - since) / 1000).toFixed(1)} s`;

/** Runs a command; throws with its output when it fails. */
function run(cmd, args, options = {}) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: 'pipe', maxBuffer: 64 << 20, ...options });
  } catch (err) {
    throw new Error(
      `${cmd} ${args.join(' ')} failed (${err.status ?? err.signal})\n${err.stdout ?? ''}${err.stderr ?? ''}`,
    );
  }
}

async function step(name, fn) {
  const t = Date.now();
  try {
    await fn();
    results.push({ name, ok: true });
    log(`ok   ${name} (${seconds(t)})`);
  } catch (err) {
    results.push({ name, ok: false });
    log(`FAIL ${name} (${seconds(t)})\n${String(err?.stack ?? err).replace(/^/gm, '     ')}`);
    if (verdaccioOutput)
      log(`     verdaccio's output:\n${verdaccioOutput.slice(-4000).replace(/^/gm, '     ')}`);
  }
}

function assert(cond, message) {
  if (!cond) throw new Error(message);
}

const freePort = () =>
  new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });

async function waitFor(what, fn, ms = 60_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      if (await fn()) return;
    } catch {}
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

// If this process ends any other way (a signal, e.g. .ci/run's timeout; an uncaught error), the
// registry goes with it: killed by its pid.
process.on('exit', () => {
  if (verdaccio && verdaccio.exitCode === null && verdaccio.signalCode === null) {
    try {
      process.kill(verdaccio.pid, 'SIGKILL');
    } catch {}
  }
});
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(signal, () => {
    log(`release: ${signal}, stopping`);
    if (!keep) rmSync(work, { recursive: true, force: true });
    process.exit(1);
  });
}

async function stopVerdaccio() {
  if (!verdaccio || verdaccio.exitCode !== null || verdaccio.signalCode !== null) return;
  const exited = new Promise((resolve) => verdaccio.once('exit', resolve));
  process.kill(verdaccio.pid, 'SIGTERM');
  const timer = setTimeout(
    () => verdaccio.exitCode === null && process.kill(verdaccio.pid, 'SIGKILL'),
    10_000,
  );
  await exited;
  clearTimeout(timer);
}

// ---------------------------------------------------------------------------------------------
// The workspace's publishable packages, read from packages/ (new ones included automatically).

const packages = readdirSync(join(root, 'packages'))
  .filter((dir) => existsSync(join(root, 'packages', dir, 'package.json')))
  .map((dir) => ({
    dir,
    manifest: JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8')),
  }))
  .filter(({ manifest }) => !manifest.private);

let registry; // http://127.0.0.1:PORT/
let userconfig; // an npmrc with the registry token
const published = new Map(); // name -> [versions]

function npmEnv(extra = {}) {
  return { ...process.env, npm_config_userconfig: userconfig, npm_config_update_notifier: 'false', ...extra };
}

/**
 * One HTTP request on a fresh connection (fetch's pooled keep-alive sockets outlive Verdaccio's
 * keep-alive timeout: "other side closed"). Resolves `{ status, body }`.
 */
function http(url, { method = 'GET', json } = {}) {
  return new Promise((resolve, reject) => {
    const body = json === undefined ? undefined : JSON.stringify(json);
    const req = request(
      url,
      { method, agent: false, headers: body ? { 'content-type': 'application/json' } : {} },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('error', (err) => reject(new Error(`${method} ${url}: ${err.message}`)));
    req.end(body);
  });
}

async function packument(name) {
  const res = await http(`${registry}${name.replace('/', '%2f')}`);
  return res.status === 200 ? JSON.parse(res.body.toString('utf8')) : undefined;
}

/** A clean consumer project whose @bpfjs scope comes from the local registry. */
function consumer(name, type = 'module') {
  const dir = join(work, 'consumers', name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'package.json'),
    `${JSON.stringify({ name: `consumer-${name}`, private: true, type }, null, 2)}\n`,
  );
  writeFileSync(join(dir, '.npmrc'), `@bpfjs:registry=${registry}\n`);
  return dir;
}

function npmInstall(dir, specs) {
  run('npm', ['install', '--no-audit', '--no-fund', '--prefer-online', ...specs], {
    cwd: dir,
    env: npmEnv(),
  });
}

const installedBpfjs = (dir) => readdirSync(join(dir, 'node_modules/@bpfjs')).sort();
const node = (dir, file, args = []) => run(process.execPath, [file, ...args], { cwd: dir });

// The smallest programs: `r0 = 0; exit` as raw bytes (socket filter) and through @bpfjs/asm.
const RET0 = '[0xb7,0,0,0,0,0,0,0, 0x95,0,0,0,0,0,0,0]';

try {
  log(
    `release: ${packages.length} packages (${packages.map((p) => p.manifest.name).join(', ')}); work dir ${work}`,
  );

  await step('registry: Verdaccio starts on 127.0.0.1', async () => {
    if (!existsSync(join(registryDir, 'node_modules/verdaccio/package.json'))) {
      run('npm', ['ci', '--no-audit', '--no-fund'], { cwd: registryDir });
    }
    const port = await freePort();
    registry = `http://127.0.0.1:${port}/`;
    const dir = join(work, 'verdaccio');
    mkdirSync(dir);
    writeFileSync(
      join(dir, 'config.yaml'),
      [
        `storage: ${join(dir, 'storage')}`,
        'auth:',
        '  htpasswd:',
        `    file: ${join(dir, 'htpasswd')}`,
        '    max_users: 1',
        // The default (bcrypt) costs seconds per request on a busy 2-core machine.
        '    algorithm: sha1',
        'uplinks: {}',
        'packages:',
        "  '@bpfjs/*':",
        '    access: $all',
        '    publish: $authenticated',
        'max_body_size: 200mb',
        'log: { type: stdout, format: pretty, level: warn }',
        '',
      ].join('\n'),
    );
    const bin = join(registryDir, 'node_modules/verdaccio/bin/verdaccio');
    verdaccio = spawn(
      process.execPath,
      [bin, '--config', join(dir, 'config.yaml'), '--listen', `127.0.0.1:${port}`],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    // For whoever runs this (.ci/run): the registry's pid, to kill it should this process be killed.
    if (process.env.BPFJS_RELEASE_PIDFILE)
      writeFileSync(process.env.BPFJS_RELEASE_PIDFILE, `${verdaccio.pid}\n`);
    verdaccio.stdout.on('data', (d) => {
      verdaccioOutput += d;
    });
    verdaccio.stderr.on('data', (d) => {
      verdaccioOutput += d;
    });
    verdaccio.on('exit', (code, signal) => {
      verdaccioOutput += `\n[verdaccio exited: ${code ?? signal}]\n`;
    });
    const output = () => verdaccioOutput;
    await waitFor('verdaccio to answer /-/ping', async () => {
      if (verdaccio.exitCode !== null) throw new Error(`verdaccio exited ${verdaccio.exitCode}\n${output()}`);
      return (await http(`${registry}-/ping`)).status === 200;
    }).catch((err) => {
      throw new Error(`${err.message}\n${output()}`);
    });
    // A user (and its token) for publishing.
    const res = await http(`${registry}-/user/org.couchdb.user:release`, {
      method: 'PUT',
      json: { name: 'release', password: 'release-test' },
    });
    const { token } = JSON.parse(res.body.toString('utf8'));
    assert(res.status === 201 && token, `could not add a registry user: ${res.status}`);
    userconfig = join(work, 'npmrc');
    // Only the @bpfjs scope comes from the local registry; the rest from the usual one.
    writeFileSync(userconfig, `@bpfjs:registry=${registry}\n//127.0.0.1:${port}/:_authToken=${token}\n`);
  });
  if (!registry || !userconfig) throw new Error('no registry');

  // Staging: the built workspace without node_modules, where changesets runs as in a release.
  const staging = join(work, 'staging');
  const changeset = (args) =>
    run(process.execPath, [join(root, 'node_modules/@changesets/cli/bin.js'), ...args], {
      cwd: staging,
      env: npmEnv({ npm_config_registry: registry }),
    });

  await step(`publish: changeset publish puts all ${packages.length} packages on the registry`, async () => {
    mkdirSync(join(staging, '.changeset'), { recursive: true });
    const rootManifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    // No packageManager field: pnpm would fetch itself from the (local, @bpfjs-only) registry.
    writeFileSync(join(staging, 'package.json'), JSON.stringify({ name: rootManifest.name, private: true }));
    // pnpm-lock.yaml: changesets picks pnpm (pnpm publish, workspace: rewritten, beforePacking) by it.
    for (const f of ['pnpm-workspace.yaml', 'pnpm-lock.yaml', '.pnpmfile.cjs', '.changeset/config.json'])
      cpSync(join(root, f), join(staging, f));
    writeFileSync(join(staging, '.npmrc'), readFileSync(userconfig));
    for (const { dir } of packages) {
      cpSync(join(root, 'packages', dir), join(staging, 'packages', dir), {
        recursive: true,
        filter: (src) => !/[/\\](node_modules|\.turbo)$/.test(src),
      });
    }
    // pnpm publish rewrites `workspace:^` from the dependency's installed manifest: link each
    // package's @bpfjs dependencies to their staged copies, as `pnpm install` would.
    const staged = new Map(packages.map(({ dir, manifest }) => [manifest.name, dir]));
    for (const { dir, manifest } of packages) {
      for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies', 'devDependencies']) {
        for (const dep of Object.keys(manifest[field] ?? {})) {
          const target = staged.get(dep);
          const link = join(staging, 'packages', dir, 'node_modules', dep);
          if (target === undefined || existsSync(link)) continue;
          mkdirSync(dirname(link), { recursive: true });
          symlinkSync(join(staging, 'packages', target), link);
        }
      }
    }
    // The release path: `changeset version` turns the pending changesets into versions and
    // CHANGELOG entries, then `changeset publish`. What gets published is what it wrote.
    for (const f of readdirSync(join(root, '.changeset'))) {
      if (f.endsWith('.md') && f !== 'README.md')
        cpSync(join(root, '.changeset', f), join(staging, '.changeset', f));
    }
    changeset(['version']);
    for (const p of packages) {
      p.manifest = JSON.parse(readFileSync(join(staging, 'packages', p.dir, 'package.json'), 'utf8'));
    }
    changeset(['publish', '--no-git-tag']);
    for (const { manifest } of packages) {
      const doc = await packument(manifest.name);
      assert(
        doc?.versions?.[manifest.version],
        `${manifest.name}@${manifest.version} is not on the registry`,
      );
      published.set(manifest.name, Object.keys(doc.versions));
    }
  });
  if (published.size !== packages.length) throw new Error('publish failed');

  await step(
    'tarballs: LICENSE, a CHANGELOG entry, no monorepo scripts or devDependencies, no workspace: ranges, no unused files',
    async () => {
      const problems = [];
      for (const { manifest } of packages) {
        const doc = await packument(manifest.name);
        const url = doc.versions[manifest.version].dist.tarball;
        const bytes = (await http(url)).body;
        const dir = join(work, 'tarballs', manifest.name.replace('/', '+'));
        mkdirSync(dir, { recursive: true });
        writeFileSync(join(dir, 'package.tgz'), bytes);
        run('tar', ['xzf', 'package.tgz'], { cwd: dir });
        for (const p of tarballProblems(dir, readFileSync(join(root, 'LICENSE'), 'utf8')))
          problems.push(`${manifest.name}: ${p}`);
        // CHANGELOGs say something: an entry for the version published.
        const changelog = join(dir, 'package/CHANGELOG.md');
        if (!existsSync(changelog) || !readFileSync(changelog, 'utf8').includes(`## ${manifest.version}\n`))
          problems.push(`${manifest.name}: CHANGELOG.md has no entry for ${manifest.version}`);
      }
      assert(problems.length === 0, problems.join('\n'));
    },
  );

  const version = (name) => packages.find((p) => p.manifest.name === name)?.manifest.version;

  await step(
    '@bpfjs/uapi alone: ESM and CJS, root and linux/* subpaths; no other package installed',
    async () => {
      const dir = consumer('uapi');
      npmInstall(dir, [`@bpfjs/uapi@${version('@bpfjs/uapi')}`]);
      assert(installedBpfjs(dir).join() === 'uapi', `installed: ${installedBpfjs(dir)}`);
      writeFileSync(
        join(dir, 'main.mjs'),
        `import { BPF_LINK_CREATE, BPF_FLOW_DISSECTOR, bpf_attach_type_name } from '@bpfjs/uapi';
import { BPF_PROG_TYPE_SK_LOOKUP } from '@bpfjs/uapi/linux/bpf';
import { createRequire } from 'node:module';
const cjs = createRequire(import.meta.url)('@bpfjs/uapi/linux/bpf');
if (BPF_LINK_CREATE !== 28 || bpf_attach_type_name[BPF_FLOW_DISSECTOR] !== 'flow_dissector') throw new Error('esm');
if (cjs.BPF_PROG_TYPE_SK_LOOKUP !== BPF_PROG_TYPE_SK_LOOKUP) throw new Error('cjs');
console.log('uapi ok');
`,
      );
      assert(node(dir, 'main.mjs').includes('uapi ok'), 'program');
    },
  );

  await step('@bpfjs/sys: loads a program through bpf(2) from the ESM and CJS builds', async () => {
    const dir = consumer('sys');
    npmInstall(dir, [`@bpfjs/sys@${version('@bpfjs/sys')}`]);
    const upper = installedBpfjs(dir).filter((d) => ['link', 'netns', 'asm', 'cli', 'testkit'].includes(d));
    assert(upper.length === 0, `layers above sys installed with it: ${upper}`);
    const program = (imp) => `${imp}
const prog = progLoad({ type: 1 /* socket_filter */, insns: new Uint8Array(${RET0}), license: 'GPL' });
const info = progGetInfo(prog);
prog.close();
if (info.type !== 1 || !(info.id > 0)) throw new Error('info ' + JSON.stringify(info));
console.log('sys ok');
`;
    writeFileSync(join(dir, 'main.mjs'), program(`import { progGetInfo, progLoad } from '@bpfjs/sys';`));
    writeFileSync(join(dir, 'main.cjs'), program(`const { progGetInfo, progLoad } = require('@bpfjs/sys');`));
    assert(node(dir, 'main.mjs').includes('sys ok'), 'esm');
    assert(node(dir, 'main.cjs').includes('sys ok'), 'cjs');
  });

  await step(
    '@bpfjs/link + @bpfjs/netns + @bpfjs/asm: an sk_lookup link in a throwaway netns (ESM, CJS)',
    async () => {
      const dir = consumer('link');
      npmInstall(
        dir,
        ['link', 'netns', 'asm'].map((p) => `@bpfjs/${p}@${version(`@bpfjs/${p}`)}`),
      );
      const program = (imp) => `${imp}
const ns = NetNs.create();
const prog = Program.load({ type: 'sk_lookup', instructions: assemble([asm.mov64Imm(R0, 1), asm.exit()]) });
const link = attachNetNs(prog, ns);
const info = link.info();
const query = queryPrograms(ns, 'sk_lookup');
link.close(); prog.close(); ns.close();
if (info.type !== 'netns' || info.attachType !== 'sk_lookup' || query.programIds.length !== 1) throw new Error(JSON.stringify({ info, query }));
console.log('link ok');
`;
      writeFileSync(
        join(dir, 'main.mjs'),
        program(`import { asm, assemble, R0 } from '@bpfjs/asm';
import { attachNetNs, Program, queryPrograms } from '@bpfjs/link';
import { NetNs } from '@bpfjs/netns';`),
      );
      writeFileSync(
        join(dir, 'main.cjs'),
        program(`const { asm, assemble, R0 } = require('@bpfjs/asm');
const { attachNetNs, Program, queryPrograms } = require('@bpfjs/link');
const { NetNs } = require('@bpfjs/netns');`),
      );
      assert(node(dir, 'main.mjs').includes('link ok'), 'esm');
      assert(node(dir, 'main.cjs').includes('link ok'), 'cjs');
    },
  );

  await step(
    '@bpfjs/btf + @bpfjs/map + @bpfjs/object: kernel BTF, a hash map, an object opened (ESM, CJS)',
    async () => {
      const dir = consumer('map');
      npmInstall(
        dir,
        ['btf', 'map', 'object'].map((p) => `@bpfjs/${p}@${version(`@bpfjs/${p}`)}`),
      );
      // The smallest ELF object a clang would give is not needed: BpfObject.open refuses a
      // non-ELF file with its coded error, which proves the installed loader runs.
      const program = (imp) => `${imp}
const vmlinux = Btf.loadKernel();
const size = vmlinux.sizeOf(vmlinux.get('bpf_attr', 'union'));
const m = BpfMap.create({ type: 'hash', key: 'u32', value: 'u64', maxEntries: 4 });
m.set(1, 7n);
const got = m.get(1);
m.close();
let code;
try { BpfObject.open(process.argv[1]); } catch (e) { code = e.code; }
if (!(size > 0) || got !== 7n || !String(code).startsWith('ERR_BPFJS_')) throw new Error(JSON.stringify({ size, got: String(got), code }));
console.log('map ok');
`;
      writeFileSync(
        join(dir, 'main.mjs'),
        program(`import { Btf } from '@bpfjs/btf';
import { BpfMap } from '@bpfjs/map';
import { BpfObject } from '@bpfjs/object';`),
      );
      writeFileSync(
        join(dir, 'main.cjs'),
        program(`const { Btf } = require('@bpfjs/btf');
const { BpfMap } = require('@bpfjs/map');
const { BpfObject } = require('@bpfjs/object');`),
      );
      assert(node(dir, 'main.mjs', [join(dir, 'package.json')]).includes('map ok'), 'esm');
      assert(node(dir, 'main.cjs', [join(dir, 'package.json')]).includes('map ok'), 'cjs');
    },
  );

  await step('@bpfjs/cli: `bpfjs --help` and `bpfjs link list --json` from the installed bin', async () => {
    const dir = consumer('cli');
    npmInstall(dir, [`@bpfjs/cli@${version('@bpfjs/cli')}`]);
    const bin = join(dir, 'node_modules/.bin/bpfjs');
    const help = run(bin, ['--help'], { cwd: dir });
    assert(/Usage: bpfjs/.test(help) && /\blink\b/.test(help) && /\bdemo\b/.test(help), `help:\n${help}`);
    assert(Array.isArray(JSON.parse(run(bin, ['link', 'list', '--json'], { cwd: dir }))), 'link list --json');
    const files = readdirSync(join(dir, 'node_modules/@bpfjs/cli/dist'));
    assert(!files.includes('bin.cjs'), 'bin.cjs shipped');
  });

  if (version('@bpfjs/testkit')) {
    await step(
      '@bpfjs/testkit: a vitest suite with testkit/setup, on the newest vitest its peer range allows',
      async () => {
        const dir = consumer('testkit');
        const range = packages.find((p) => p.manifest.name === '@bpfjs/testkit').manifest.peerDependencies
          .vitest;
        npmInstall(dir, [`@bpfjs/testkit@${version('@bpfjs/testkit')}`, `vitest@${range}`]);
        const vitestVersion = JSON.parse(
          readFileSync(join(dir, 'node_modules/vitest/package.json'), 'utf8'),
        ).version;
        const newest = JSON.parse(
          run('npm', ['view', `vitest@${range}`, 'version', '--json'], { cwd: dir, env: npmEnv() }),
        );
        const want = Array.isArray(newest) ? newest.at(-1) : newest;
        assert(vitestVersion === want, `vitest ${vitestVersion} installed, newest in ${range} is ${want}`);
        writeFileSync(
          join(dir, 'vitest.config.mjs'),
          `import { defineConfig } from 'vitest/config';\nexport default defineConfig({ test: { setupFiles: ['@bpfjs/testkit/setup'] } });\n`,
        );
        writeFileSync(
          join(dir, 'netns.test.mjs'),
          `import { expect } from 'vitest';
import { requireKernel, tempNetNs } from '@bpfjs/testkit';
requireKernel().it('gets a throwaway netns', () => {
  const ns = tempNetNs();
  expect(ns.inode).toBeGreaterThan(0);
});
`,
        );
        const out = run(join(dir, 'node_modules/.bin/vitest'), ['run'], {
          cwd: dir,
          env: { ...process.env, BPFJS_REQUIRE_KERNEL: '1' },
        });
        assert(/1 passed/.test(out), out);
        assert(!/deprecat/i.test(out), `vitest ${vitestVersion} warns:\n${out}`);
        log(`     vitest ${vitestVersion} (peer range ${range})`);
      },
    );
  }

  await step(
    'types: every package type-checks in a TypeScript consumer (node10, node16, bundler; ± esModuleInterop)',
    async () => {
      const dir = consumer('types');
      const tsVersion = JSON.parse(
        readFileSync(join(root, 'node_modules/typescript/package.json'), 'utf8'),
      ).version;
      npmInstall(dir, [
        ...packages.map((p) => `${p.manifest.name}@${p.manifest.version}`),
        '@types/node@^20',
        `typescript@${tsVersion}`,
      ]);
      const imports = [];
      for (const { manifest } of packages) {
        const subpaths = Object.keys(manifest.exports ?? {}).filter(
          (k) => k !== '.' && k !== './package.json',
        );
        const concrete = subpaths.flatMap((k) => (k.includes('*') ? [] : [k.replace(/^\./, manifest.name)]));
        for (const spec of [manifest.name, ...concrete]) imports.push(spec);
      }
      // uapi's linux/* subpaths are listed one by one; a wildcard export would need a concrete name here.
      // @bpfjs/testkit needs node16/nodenext/bundler resolution: vitest's (vite's) own declarations
      // do not resolve under node10 (its README says so). Every other package works under all three.
      const source = (specs) =>
        [
          ...specs.map((spec, i) => `import * as m${i} from '${spec}';`),
          `export const modules = [${specs.map((_, i) => `m${i}`).join(', ')}];`,
          `import { openPath } from '@bpfjs/sys';`,
          // `using` needs TypeScript >= 5.2, lib esnext.disposable and @types/node >= 20 (Disposable).
          `export function disposable(): number { using fd = openPath('/dev/null'); return fd.fd; }`,
          '',
        ].join('\n');
      const tsc = join(dir, 'node_modules/typescript/bin/tsc');
      const failures = [];
      for (const [label, options, type] of [
        ['node10', { module: 'commonjs', moduleResolution: 'node10' }, 'commonjs'],
        ['node16', { module: 'node16', moduleResolution: 'node16' }, 'module'],
        ['bundler', { module: 'esnext', moduleResolution: 'bundler' }, 'module'],
      ]) {
        writeFileSync(
          join(dir, 'index.ts'),
          source(label === 'node10' ? imports.filter((spec) => !spec.startsWith('@bpfjs/testkit')) : imports),
        );
        for (const esModuleInterop of [true, false]) {
          writeFileSync(
            join(dir, 'package.json'),
            JSON.stringify({ name: 'consumer-types', private: true, type }),
          );
          const config = {
            compilerOptions: {
              ...options,
              target: 'es2022',
              lib: ['es2022', 'esnext.disposable'],
              types: ['node'],
              strict: true,
              noEmit: true,
              skipLibCheck: false,
              esModuleInterop,
              ...(esModuleInterop ? {} : { allowSyntheticDefaultImports: false }),
            },
            files: ['index.ts'],
          };
          writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(config, null, 2));
          try {
            run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: dir });
          } catch (err) {
            failures.push(`${label}, esModuleInterop ${esModuleInterop}:\n${err.message}`);
          }
        }
      }
      assert(failures.length === 0, failures.join('\n'));
    },
  );

  await step('pinning: a newer @bpfjs/link with an older @bpfjs/sys pinned beside it', async () => {
    // A second release through the changesets path: a patch of sys (its dependents follow).
    writeFileSync(
      join(staging, '.changeset/release-test.md'),
      `---\n'@bpfjs/sys': patch\n'@bpfjs/link': patch\n---\n\nrelease test: a second version\n`,
    );
    changeset(['version']);
    changeset(['publish', '--no-git-tag']);
    const manifestOf = (dir) =>
      JSON.parse(readFileSync(join(staging, 'packages', dir, 'package.json'), 'utf8'));
    const sysOld = version('@bpfjs/sys');
    const sysNew = manifestOf('sys').version;
    const linkNew = manifestOf('link').version;
    assert(
      sysNew !== sysOld && linkNew !== version('@bpfjs/link'),
      `versions: sys ${sysNew}, link ${linkNew}`,
    );
    const linkDoc = await packument('@bpfjs/link');
    assert(linkDoc.versions[linkNew], `@bpfjs/link@${linkNew} not published`);
    const dir = consumer('pinning');
    npmInstall(dir, [`@bpfjs/link@${linkNew}`, `@bpfjs/sys@${sysOld}`]);
    writeFileSync(
      join(dir, 'main.mjs'),
      `import { createRequire } from 'node:module';
import { openPath, unshare } from '@bpfjs/sys';
import { attachNetNs, Program } from '@bpfjs/link';
const require = createRequire(import.meta.url);
const mine = require('@bpfjs/sys/package.json').version;
const links = createRequire(require.resolve('@bpfjs/link'))('@bpfjs/sys/package.json').version;
// This process's own new netns (CLONE_NEWNET), gone when it exits.
unshare(0x40000000);
const netns = openPath('/proc/thread-self/ns/net');
const prog = Program.load({ type: 'sk_lookup', instructions: new Uint8Array([0xb7,0,0,0,1,0,0,0, 0x95,0,0,0,0,0,0,0]) });
// An Fd made by the pinned sys, handed to link, which runs on its own sys.
const link = attachNetNs(prog, netns);
const info = link.info();
link.close(); prog.close(); netns.close();
console.log(JSON.stringify({ mine, links, type: info.type }));
`,
    );
    const out = JSON.parse(node(dir, 'main.mjs').trim().split('\n').at(-1));
    assert(out.mine === sysOld && out.type === 'netns', JSON.stringify(out));
    log(`     app's @bpfjs/sys ${out.mine}, @bpfjs/link ${linkNew} runs on @bpfjs/sys ${out.links}`);
  });
} catch (err) {
  results.push({ name: 'release test', ok: false });
  log(`FAIL ${String(err?.stack ?? err)}`);
} finally {
  await stopVerdaccio();
  if (!keep) rmSync(work, { recursive: true, force: true });
}

const failed = results.filter((r) => !r.ok).length;
log(`release test took ${seconds(started)}${keep ? ` (kept ${work})` : ''}`);
log(`release: ${results.length - failed} passed, ${failed} failed`);
process.exitCode = failed ? 1 : 0;
