// Struct is public: bad field names, pointer writes to non-pointer fields, non-byte buffers and
// scalar writes to aggregates are input errors with a code, like every other check in sys
// (found by tests/reliability's randomized run).
import { BpfLinkInfo, LinkCreateAttr } from '@bpfjs/uapi/linux/bpf';
import { describe, expect, it } from 'vitest';
import { Struct } from './struct.js';

const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    const kind = e instanceof RangeError ? 'RangeError' : e instanceof TypeError ? 'TypeError' : 'Error';
    return `${kind}:${(e as { code?: string }).code}`;
  }
  return 'no error';
};

describe('Struct input checks', () => {
  it('gives coded errors for bad field names, pointers and aggregates', () => {
    const s = new Struct(LinkCreateAttr);
    expect(codeOf(() => s.set('nope' as 'flags', 1))).toBe('RangeError:ERR_INVALID_ARG_VALUE');
    expect(codeOf(() => s.set('toString' as 'flags', 1))).toBe('RangeError:ERR_INVALID_ARG_VALUE');
    expect(codeOf(() => s.set(Symbol('x') as unknown as 'flags', 1))).toBe('TypeError:ERR_INVALID_ARG_TYPE');
    expect(codeOf(() => s.setPointer('flags', new Uint8Array(4)))).toBe('RangeError:ERR_INVALID_ARG_VALUE');
    expect(codeOf(() => s.setPointer('iter_info', [1, 2] as unknown as Uint8Array))).toBe(
      'TypeError:ERR_INVALID_ARG_TYPE',
    );
    expect(codeOf(() => s.setPointer('iter_info', null))).toBe('no error');
    const info = new Struct(BpfLinkInfo);
    expect(codeOf(() => info.set('netns', 1))).toBe('TypeError:ERR_INVALID_ARG_VALUE');
    expect(codeOf(() => info.setBytes('netns', 'x' as unknown as Uint8Array))).toBe(
      'TypeError:ERR_INVALID_ARG_TYPE',
    );
  });
});
