/**
 * `BPF_BTF_LOAD` (4.18+): loads BTF type information, with log capture on failure.
 *
 * @module
 */
import { BPF_BTF_LOAD, BtfLoadAttr } from '@bpfjs/uapi/linux/bpf';
import { bpfUnchecked } from './bpf.js';
import { BpfError, errInvalidArgValue } from './errors.js';
import { adoptFd, type Fd } from './fd.js';
import { allocBytes, cString, hasField, Struct } from './struct.js';
import { optionKeys, validateBytes, validateInteger, validateObject } from './validate.js';

const BTF_LOAD_KEYS = optionKeys('data', 'logLevel', 'logSize', 'onLog');

const ENOSPC = 28;
const EPERM = 1;
const MAX_LOG = 0x3fffffff;
const MAX_RETRY_LOG = 16 * 1024 * 1024;

/** Options of {@link btfLoad}. */
export interface BtfLoadOptions {
  /** The raw BTF: header, type section, string section. */
  data: Uint8Array;
  /** Log level for a successful load too (default 0: log only captured on failure). */
  logLevel?: number;
  /** Log buffer size when `logLevel` > 0 (default 64 KiB). */
  logSize?: number;
  /** Receives the log after a successful load when `logLevel` > 0. */
  onLog?: (log: string) => void;
}

/**
 * `BPF_BTF_LOAD`: loads BTF and returns its `Fd`. A failed load without a log level is retried
 * once with a log; the thrown `BpfError` carries it in `.log`. Needs CAP_BPF or CAP_SYS_ADMIN.
 * @throws BpfError (`command: 'BPF_BTF_LOAD'`): EINVAL for malformed BTF, EPERM.
 */
export function btfLoad(opts: BtfLoadOptions): Fd {
  validateObject(opts, 'options', BTF_LOAD_KEYS);
  const data = validateBytes(opts.data, 'options.data');
  if (data.byteLength === 0) throw errInvalidArgValue('options.data', data, 'must not be empty');
  const logLevel =
    opts.logLevel === undefined ? 0 : validateInteger(opts.logLevel, 'options.logLevel', 0, 0xffff);
  const logSize =
    opts.logSize === undefined ? 64 * 1024 : validateInteger(opts.logSize, 'options.logSize', 128, MAX_LOG);
  if (opts.onLog !== undefined && typeof opts.onLog !== 'function') {
    throw errInvalidArgValue('options.onLog', opts.onLog, 'must be a function');
  }
  const copy = allocBytes(data.byteLength);
  copy.set(data);
  const attr = new Struct(BtfLoadAttr);
  attr.setPointer('btf', copy).set('btf_size', copy.byteLength);
  const setLog = (level: number, buf: Uint8Array) =>
    attr.setPointer('btf_log_buf', buf).set('btf_log_size', buf.byteLength).set('btf_log_level', level);
  let logBuf: Uint8Array | undefined;
  if (logLevel > 0) {
    logBuf = allocBytes(logSize);
    setLog(logLevel, logBuf);
  }
  let first: BpfError;
  try {
    const fd = adoptFd(bpfUnchecked(BPF_BTF_LOAD, attr.bytes, attr.end));
    if (logBuf !== undefined) opts.onLog?.(cString(logBuf));
    return fd;
  } catch (e) {
    if (!BpfError.isInstance(e)) throw e;
    if (logBuf !== undefined)
      throw new BpfError(e.errno, 'bpf', { command: e.command, log: cString(logBuf) || undefined });
    if (e.errno === EPERM) throw e;
    first = e;
  }
  let size = 64 * 1024;
  for (;;) {
    const buf = allocBytes(size);
    setLog(1, buf);
    try {
      return adoptFd(bpfUnchecked(BPF_BTF_LOAD, attr.bytes, attr.end));
    } catch (e) {
      if (!BpfError.isInstance(e)) throw e;
      if (e.errno === ENOSPC && size < MAX_RETRY_LOG) {
        const wanted = hasField(BtfLoadAttr, 'btf_log_true_size') ? attr.getNumber('btf_log_true_size') : 0;
        size = Math.min(MAX_RETRY_LOG, Math.max(size * 4, wanted + 1));
        continue;
      }
      throw new BpfError(first.errno, 'bpf', { command: first.command, log: cString(buf) || undefined });
    }
  }
}
