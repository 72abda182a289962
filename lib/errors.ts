/** What a program or a callback threw, as an Error (JavaScript can throw anything). */
export function asError(thrown: unknown): Error {
  if (thrown instanceof Error) return thrown;
  if (typeof thrown === "string") return new Error(thrown);
  return new Error(`non-Error thrown: ${JSON.stringify(thrown) ?? typeof thrown}`);
}
