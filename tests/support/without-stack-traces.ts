/**
 * Runs `body` with V8 capturing no stack traces, then restores the limit. The Pulumi SDK captures a
 * stack trace for every promise it creates (`debuggablePromise`): most of a program's evaluation time
 * under test, for traces nothing reads. Tests evaluate the program through this and assert afterwards,
 * with stack traces back on; an error the program throws keeps its message, not its stack.
 */
export async function withoutStackTraces<T>(body: () => Promise<T>): Promise<T> {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return await body();
  } finally {
    Error.stackTraceLimit = limit;
  }
}
