import { describe, expect, it } from 'vitest';
import { bpftoolName, snakeCase, table, toJson } from './format.js';

describe('toJson', () => {
  it('writes bigints as plain JSON numbers with every digit', () => {
    expect(toJson({ cgroup_id: 18446744073709551615n, id: 3 })).toBe(
      '{"cgroup_id":18446744073709551615,"id":3}',
    );
  });
  it('leaves out undefined members and keeps null', () => {
    expect(toJson({ a: undefined, b: null, c: [1, 'x', true] })).toBe('{"b":null,"c":[1,"x",true]}');
  });
  it('pretty-prints with an indent and parses back', () => {
    const text = toJson([{ id: 1, type: 'netns' }], 2);
    expect(text).toBe('[\n  {\n    "id": 1,\n    "type": "netns"\n  }\n]');
    expect(JSON.parse(text)).toEqual([{ id: 1, type: 'netns' }]);
  });
  it('escapes strings', () => {
    expect(JSON.parse(toJson({ s: 'a"b\n\u0001' }))).toEqual({ s: 'a"b\n\u0001' });
  });
  it('empty containers', () => {
    expect(toJson([])).toBe('[]');
    expect(toJson({}, 2)).toBe('{}');
  });
});

describe('table', () => {
  it('aligns columns, prints - for missing cells and does not pad the last column', () => {
    const text = table(
      ['ID', 'TYPE', 'DETAILS'],
      [
        [1, 'netns', 'netns_ino 4026531840'],
        [120, undefined, ''],
      ],
    );
    expect(text).toBe('ID   TYPE   DETAILS\n1    netns  netns_ino 4026531840\n120  -      -\n');
  });
});

describe('names', () => {
  it('converts camelCase to snake_case', () => {
    expect(snakeCase('targetBtfId')).toBe('target_btf_id');
    expect(snakeCase('id')).toBe('id');
  });
  it("uses bpftool's names where they differ", () => {
    expect(bpftoolName('programId')).toBe('prog_id');
    expect(bpftoolName('netnsInode')).toBe('netns_ino');
    expect(bpftoolName('someNewField')).toBe('some_new_field');
  });
});
