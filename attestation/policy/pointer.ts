/** Appends one reference token to a JSON pointer (RFC 6901: "~" becomes "~0", "/" becomes "~1"). */
export function pointer(base: string, token: string | number): string {
  return `${base}/${String(token).replace(/~/g, '~0').replace(/\//g, '~1')}`;
}
