/** The `code` of what `fn` throws, or "no error": for tables of inputs and the code each must fail with. */
export function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return (e as { code: string }).code;
  }
  return 'no error';
}
