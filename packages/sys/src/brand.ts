/**
 * `Symbol.for` brands: how a class of one copy of a bpfjs package recognises instances made by
 * another copy (the ESM and the CommonJS build loaded side by side — the dual-package hazard —
 * or two versions in one dependency tree), where `instanceof` answers false.
 *
 * @module
 */

/** A brand: `mark` a class's prototype once, then `is` tells branded values from any copy. */
export interface Brand<T> {
  /** The registry symbol (`Symbol.for(name)`), the same in every copy. */
  readonly symbol: symbol;
  /**
   * Marks `cls.prototype` (non-enumerable, read-only), so every instance and subclass carries it.
   * Takes any class (also one with a private constructor).
   */
  mark(cls: { readonly prototype: T }): void;
  /**
   * True for an object carrying the brand. It says which class the value claims to be, not that
   * it is well-formed: `Object.create(Cls.prototype)` carries it too, so code that then reads
   * the value's members must still check what it gets.
   */
  is(value: unknown): value is T;
}

/**
 * Creates the brand `Symbol.for(name)` (name it `'bpfjs.<Class>'`, e.g. `'bpfjs.Program'`).
 * Every class that crosses package boundaries uses one, with a static `isInstance` calling `is`.
 */
export function brand<T>(name: string): Brand<T> {
  const symbol = Symbol.for(name);
  return {
    symbol,
    mark(cls) {
      Object.defineProperty(cls.prototype, symbol, { value: true });
    },
    is(value: unknown): value is T {
      return (
        typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[symbol] === true
      );
    },
  };
}
