// Builds the guest's initramfs: a static busybox, the /init script (guest/init.sh), an env file with
// the run's parameters, /dev/console, and the kernel modules the guest needs to reach the host's root
// (virtio PCI transport, FUSE/virtiofs, overlayfs) plus a few the tests use, with their dependencies.
// Modules are decompressed here (busybox insmod reads plain .ko files only). The archive is written
// directly in the cpio "newc" format, uncompressed.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

/** Modules the guest cannot boot into the host root without (when they are not built in). */
export const REQUIRED_MODULES = ['virtio_pci', 'virtiofs', 'overlay'];
/** Modules loaded when the kernel ships them, for tests (veth pairs, dummy devices, tc). */
export const OPTIONAL_MODULES = ['veth', 'dummy', 'sch_ingress', 'cls_bpf', 'act_bpf'];

const modName = (file) => file.replace(/\.ko(\.(xz|zst|gz))?$/, '').replace(/-/g, '_');

function walkModules(dir, out = new Map()) {
  for (const ent of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, ent.name);
    if (ent.isDirectory()) walkModules(p, out);
    else if (/\.ko(\.(xz|zst|gz))?$/.test(ent.name)) out.set(modName(ent.name), p);
  }
  return out;
}

function readModule(path) {
  if (path.endsWith('.ko')) return readFileSync(path);
  if (path.endsWith('.gz')) return gunzipSync(readFileSync(path));
  const tool = path.endsWith('.xz') ? 'xz' : 'zstd';
  return execFileSync(tool, ['-dc', path], { maxBuffer: 1 << 30 });
}

function dependsOf(buf) {
  // The .modinfo section holds NUL-separated key=value strings; `depends=` lists module names.
  const text = buf.toString('latin1');
  const i = text.indexOf('\0depends=');
  if (i < 0) return [];
  const end = text.indexOf('\0', i + 1);
  const value = text.slice(i + '\0depends='.length, end);
  return value ? value.split(',').map((s) => s.replace(/-/g, '_')) : [];
}

/**
 * Resolves the modules to load for a kernel, dependencies first. Modules that are built in (or
 * simply absent from the package) are left out; a required one that is absent must then be built
 * in, which the boot itself verifies.
 * Returns `[{ name, data }]` in load order.
 */
export function resolveModules(modulesDir) {
  const kernelDir = join(modulesDir, 'kernel');
  const files = existsSync(kernelDir) ? walkModules(kernelDir) : new Map();
  const order = [];
  const seen = new Set();
  const visit = (name) => {
    if (seen.has(name)) return;
    seen.add(name);
    const path = files.get(name);
    if (!path) return;
    const data = readModule(path);
    for (const dep of dependsOf(data)) visit(dep);
    order.push({ name, data });
  };
  for (const m of [...REQUIRED_MODULES, ...OPTIONAL_MODULES]) visit(m);
  return order;
}

/** Writes a cpio newc archive of `entries` ({ path, mode, data?, rdev? }). */
export function cpioNewc(entries) {
  const chunks = [];
  let ino = 1;
  const pad4 = (n) => (4 - (n % 4)) % 4;
  const push = (name, mode, data, rdevMajor = 0, rdevMinor = 0) => {
    const nameBuf = Buffer.from(`${name}\0`, 'latin1');
    const hex = (n) => n.toString(16).padStart(8, '0');
    const fields = [ino++, mode, 0, 0, 1, 0, data.length, 0, 0, rdevMajor, rdevMinor, nameBuf.length, 0];
    chunks.push(Buffer.from(`070701${fields.map(hex).join('')}`, 'latin1'));
    chunks.push(nameBuf, Buffer.alloc(pad4(110 + nameBuf.length)));
    chunks.push(data, Buffer.alloc(pad4(data.length)));
  };
  for (const e of entries) push(e.path, e.mode, e.data ?? Buffer.alloc(0), e.rdev?.[0], e.rdev?.[1]);
  push('TRAILER!!!', 0, Buffer.alloc(0));
  const out = Buffer.concat(chunks);
  return Buffer.concat([out, Buffer.alloc((512 - (out.length % 512)) % 512)]);
}

/** Quotes a value for a POSIX shell. */
export const shQuote = (v) => `'${String(v).replace(/'/g, `'\\''`)}'`;

/**
 * Builds the initramfs for one run into `outPath`.
 * `env`: variables for /init (see guest/init.sh); `guestEnv`: the whole environment of the command
 * run in the guest. Returns the list of module names packed.
 */
export function buildInitramfs({ modulesDir, env, guestEnv, outPath, busybox = '/bin/busybox' }) {
  if (!existsSync(busybox))
    throw new Error(`kernels: ${busybox} is missing (apt-get install busybox-static)`);
  const init = readFileSync(new URL('../guest/init.sh', import.meta.url));
  const modules = resolveModules(modulesDir);
  const envFile = (vars) =>
    Buffer.from(
      Object.entries(vars)
        .map(([k, v]) => `export ${k}=${shQuote(v)}\n`)
        .join(''),
    );
  const DIR = 0o040755;
  const FILE = 0o100644;
  const EXEC = 0o100755;
  const entries = [
    ...['bin', 'dev', 'proc', 'sys', 'mnt', 'lib', 'lib/modules', 'tmp'].map((path) => ({ path, mode: DIR })),
    { path: 'dev/console', mode: 0o020600, rdev: [5, 1] },
    { path: 'dev/null', mode: 0o020666, rdev: [1, 3] },
    { path: 'bin/busybox', mode: EXEC, data: readFileSync(busybox) },
    { path: 'init', mode: EXEC, data: init },
    { path: 'bpfjs.env', mode: FILE, data: envFile(env) },
    { path: 'guest.env', mode: FILE, data: envFile(guestEnv) },
    { path: 'modules.order', mode: FILE, data: Buffer.from(modules.map((m) => `${m.name}\n`).join('')) },
    ...modules.map((m) => ({ path: `lib/modules/${m.name}.ko`, mode: FILE, data: m.data })),
  ];
  writeFileSync(outPath, cpioNewc(entries));
  return { modules: modules.map((m) => m.name), bytes: statSync(outPath).size };
}
