// Waiting for a condition in tests, instead of sleeping a fixed time before looking.

/**
 * Polls `fn` (sync or async) until it returns a truthy value, and returns that value. Exceptions
 * thrown by `fn` count as "not yet". On timeout it throws, naming `message` and the last exception.
 */
export async function waitFor(fn, { timeout = 5000, interval = 50, message = "condition" } = {}) {
  const deadline = Date.now() + timeout;
  let lastError;
  for (;;) {
    try {
      const value = await fn();
      if (value) return value;
      lastError = undefined;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const why = lastError ? `; last error: ${lastError.message ?? lastError}` : "";
      throw new Error(`waitFor: ${message} not true after ${timeout} ms${why}`);
    }
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}
