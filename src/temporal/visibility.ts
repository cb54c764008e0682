/**
 * Building Temporal visibility queries safely.
 */

/** A visibility-query string literal. Values are validated before; quotes are escaped anyway. */
export function visibilityLiteral(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}
