/** Byte sizes are what servers and the keepalive quota measure, not UTF-16 units. */

const NON_ASCII = /[^\0-\x7f]/;

/** UTF-8 byte length of `text` without allocating an encoded copy. */
export function utf8Length(text: string): number {
  // Up to the first non-ASCII character (most JSON has none), one byte each: found natively.
  const first = text.search(NON_ASCII);
  if (first < 0) return text.length;
  let bytes = first;
  for (let i = first; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}
