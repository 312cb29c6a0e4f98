/**
 * Which canonical type changes between the files of one source are widenings etld follows, and
 * which are a changed field type (refused). A widening keeps every value exactly: int16 < int32
 * < int64, float32 → float64, decimals to one holding both (at most 38 digits), an integer into a
 * decimal with room for it. Nothing crosses between numbers and text, integers and floats, or
 * decimals and floats: those lose values or change their meaning.
 */
import type { CanonicalType } from '../../../shared/types.js';

const MAX_DECIMAL_PRECISION = 38;

type IntegerKind = 'int16' | 'int32' | 'int64';

/** Decimal digits an integer type needs (int64: 19), in widening order. */
const INTEGER_DIGITS: Readonly<Record<IntegerKind, number>> = { int16: 5, int32: 10, int64: 19 };

function integerKind(type: CanonicalType): IntegerKind | undefined {
  return type.kind === 'int16' || type.kind === 'int32' || type.kind === 'int64' ? type.kind : undefined;
}

export function sameType(a: CanonicalType, b: CanonicalType): boolean {
  if (a.kind === 'decimal' && b.kind === 'decimal') return a.precision === b.precision && a.scale === b.scale;
  return a.kind === b.kind;
}

/** The decimal with `integerDigits` before the point and `scale` after, when it fits 38 digits. */
function decimal(integerDigits: number, scale: number): CanonicalType | undefined {
  const precision = integerDigits + scale;
  return precision <= MAX_DECIMAL_PRECISION ? { kind: 'decimal', precision, scale } : undefined;
}

/** The narrowest type holding every value of `a` and every value of `b`; undefined: none allowed. */
export function widenTypes(a: CanonicalType, b: CanonicalType): CanonicalType | undefined {
  if (sameType(a, b)) return a;
  const intA = integerKind(a);
  const intB = integerKind(b);
  if (intA !== undefined && intB !== undefined) return INTEGER_DIGITS[intA] >= INTEGER_DIGITS[intB] ? a : b;
  if ((a.kind === 'float32' || a.kind === 'float64') && (b.kind === 'float32' || b.kind === 'float64')) {
    return { kind: 'float64' };
  }
  if (a.kind === 'decimal' && b.kind === 'decimal') {
    const scale = Math.max(a.scale, b.scale);
    return decimal(Math.max(a.precision - a.scale, b.precision - b.scale), scale);
  }
  if (a.kind === 'decimal' && intB !== undefined) {
    return decimal(Math.max(a.precision - a.scale, INTEGER_DIGITS[intB]), a.scale);
  }
  if (b.kind === 'decimal' && intA !== undefined) {
    return decimal(Math.max(b.precision - b.scale, INTEGER_DIGITS[intA]), b.scale);
  }
  return undefined;
}

/** Whether every value of `from` loads unchanged into a column of type `to`. */
export function widensTo(from: CanonicalType, to: CanonicalType): boolean {
  const widened = widenTypes(from, to);
  return widened !== undefined && sameType(widened, to);
}
