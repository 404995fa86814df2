// Gates that cannot open on any machine: skipped normally, failures under BPFJS_REQUIRE_KERNEL=1.
import { beforeEach, describe, it } from 'vitest';
import { requireCapabilities, requireKernelVersion } from '../src/gates.js';

const impossible = requireKernelVersion('999.0', 'a kernel from the future');

impossible.describe('suite behind a closed gate', () => {
  it('would run', () => {});
});

impossible.it('test behind a closed gate', () => {});

describe('beforeEach gate', () => {
  beforeEach(impossible.and(requireCapabilities('CAP_BPF')));
  it('would run too', () => {});
});
