/** Small value helpers shared by the redactor and the line sanitizer. */

/** Assigns without invoking the `__proto__` setter of a plain object. */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else target[key] = value;
}

/** `[Buffer 12 bytes]`, `[Uint8Array 12 bytes]`: bytes are never dumped into a log. */
export function summarizeBytes(view: ArrayBufferView): string {
  const name = Buffer.isBuffer(view) ? 'Buffer' : (view.constructor?.name ?? 'TypedArray');
  return `[${name} ${view.byteLength} bytes]`;
}
