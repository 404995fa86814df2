/**
 * The errors of `@bpfjs/btf`. None of them comes from the kernel: each carries a permanent
 * `ERR_BPFJS_BTF_*` code and a `Symbol.for` brand (two copies of this package can be loaded at
 * once, so test with `isInstance`, not `instanceof`).
 *
 * @module
 */

const FORMAT_BRAND = Symbol.for('bpfjs.BtfFormatError');
const LOOKUP_BRAND = Symbol.for('bpfjs.BtfLookupError');
const VALUE_BRAND = Symbol.for('bpfjs.BtfValueError');

const branded = (value: unknown, brand: symbol): boolean =>
  typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[brand] === true;

/**
 * A blob that is not valid BTF, or a type graph that cannot be followed (a loop, a reference to a
 * missing id, a string offset past the string section): `code: 'ERR_BPFJS_BTF_INVALID'`.
 */
export class BtfFormatError extends RangeError {
  /** Always `'ERR_BPFJS_BTF_INVALID'`. */
  readonly code = 'ERR_BPFJS_BTF_INVALID';
  /** The type id the problem was found in, when there is one. */
  readonly typeId: number | undefined;
  constructor(message: string, typeId?: number) {
    super(`invalid BTF: ${typeId === undefined ? '' : `type ${typeId}: `}${message}`);
    this.name = 'BtfFormatError';
    this.typeId = typeId;
  }
  /** True for a `BtfFormatError` from any copy of `@bpfjs/btf`. */
  static isInstance(value: unknown): value is BtfFormatError {
    return branded(value, FORMAT_BRAND);
  }
}
Object.defineProperty(BtfFormatError.prototype, FORMAT_BRAND, { value: true });

/** Codes of {@link BtfLookupError}. */
export type BtfLookupErrorCode =
  | 'ERR_BPFJS_BTF_NOT_FOUND'
  | 'ERR_BPFJS_BTF_BAD_ID'
  | 'ERR_BPFJS_BTF_NO_SIZE'
  | 'ERR_BPFJS_BTF_WRONG_KIND'
  | 'ERR_BPFJS_BTF_NO_MEMBER';

/**
 * A question the BTF cannot answer: a name that is not there (`ERR_BPFJS_BTF_NOT_FOUND`), an id
 * out of range (`ERR_BPFJS_BTF_BAD_ID`), the size of a type without one (`ERR_BPFJS_BTF_NO_SIZE`,
 * e.g. `void`, a function or a forward declaration), a type of the wrong kind for the operation
 * (`ERR_BPFJS_BTF_WRONG_KIND`), a member path that does not exist (`ERR_BPFJS_BTF_NO_MEMBER`).
 */
export class BtfLookupError extends RangeError {
  /** Which lookup failed. */
  readonly code: BtfLookupErrorCode;
  constructor(code: BtfLookupErrorCode, message: string) {
    super(message);
    this.name = 'BtfLookupError';
    this.code = code;
  }
  /** True for a `BtfLookupError` from any copy of `@bpfjs/btf`. */
  static isInstance(value: unknown): value is BtfLookupError {
    return branded(value, LOOKUP_BRAND);
  }
}
Object.defineProperty(BtfLookupError.prototype, LOOKUP_BRAND, { value: true });

/** Codes of {@link BtfValueError}. */
export type BtfValueErrorCode =
  | 'ERR_BPFJS_BTF_VALUE_TYPE'
  | 'ERR_BPFJS_BTF_VALUE_RANGE'
  | 'ERR_BPFJS_BTF_VALUE_UNKNOWN_FIELD'
  | 'ERR_BPFJS_BTF_VALUE_SIZE'
  | 'ERR_BPFJS_BTF_VALUE_UNSUPPORTED';

/**
 * A value the codec refuses, before any syscall: a JavaScript value of the wrong type for the C
 * type (`ERR_BPFJS_BTF_VALUE_TYPE`), a number that does not fit (`ERR_BPFJS_BTF_VALUE_RANGE`: an
 * integer or bit-field out of range, a string or array longer than its C array, an enum name the
 * enum lacks), a field the struct or union lacks (`ERR_BPFJS_BTF_VALUE_UNKNOWN_FIELD`), bytes of
 * the wrong length to decode (`ERR_BPFJS_BTF_VALUE_SIZE`), or a C type that has no value
 * (`ERR_BPFJS_BTF_VALUE_UNSUPPORTED`: void, functions, forward declarations). `path` names the
 * place in the value (`'value.hdr.flags[2]'`).
 */
export class BtfValueError extends TypeError {
  /** What is wrong with the value. */
  readonly code: BtfValueErrorCode;
  /** Where in the value: `'value'`, `'value.a.b[3]'`. */
  readonly path: string;
  constructor(code: BtfValueErrorCode, path: string, message: string) {
    super(`${path}: ${message}`);
    this.name = 'BtfValueError';
    this.code = code;
    this.path = path;
  }
  /** True for a `BtfValueError` from any copy of `@bpfjs/btf`. */
  static isInstance(value: unknown): value is BtfValueError {
    return branded(value, VALUE_BRAND);
  }
}
Object.defineProperty(BtfValueError.prototype, VALUE_BRAND, { value: true });
