// Mutable state of one mock instance: the request log, the queue of injected
// faults and the adjustable behaviour (Cache-Control, apiKey).

export const DEFAULT_CACHE_CONTROL = "max-age=60";
export const DEFAULT_API_KEY = "mock-secret-api-key";

export class MockState {
  #defaults;
  #seq = 0;
  #faultSeq = 0;

  constructor({ apiKey } = {}) {
    this.#defaults = Object.freeze({
      cacheControl: DEFAULT_CACHE_CONTROL,
      apiKey: apiKey ?? process.env.RR_MOCK_API_KEY ?? DEFAULT_API_KEY,
      rcuidCookie: true,
    });
    this.log = [];
    this.faults = [];
    this.behaviour = { ...this.#defaults };
  }

  /** Append a request record (status/fault/flagged are filled in later). */
  record({ method, path, query, rawQuery, headers, body }) {
    const entry = {
      seq: ++this.#seq,
      at: Date.now(),
      method,
      path,
      query,
      rawQuery,
      headers,
      cookie: headers.cookie ?? null,
      body,
      status: null,
      fault: null,
      flagged: null,
    };
    this.log.push(entry);
    return entry;
  }

  requests(pathPrefix = "") {
    return this.log.filter((entry) => entry.path.startsWith(pathPrefix));
  }

  flagged() {
    return this.log.filter((entry) => entry.flagged !== null);
  }

  clearLog() {
    this.log = [];
  }

  /** Queue a validated fault (see control.mjs normalizeFault). */
  addFault(fault) {
    const queued = { id: ++this.#faultSeq, ...fault, remaining: fault.count };
    this.faults.push(queued);
    return queued;
  }

  /** First queued fault matching the path (FIFO); consumes one of its uses. */
  takeFault(path) {
    const index = this.faults.findIndex((fault) => fault.match === null || path.startsWith(fault.match));
    if (index === -1) return null;
    const fault = this.faults[index];
    fault.remaining -= 1;
    if (fault.remaining === 0) this.faults.splice(index, 1);
    const { remaining, ...injected } = fault;
    return injected;
  }

  clearFaults() {
    this.faults = [];
  }

  setBehaviour(changes) {
    Object.assign(this.behaviour, changes);
  }

  resetBehaviour() {
    this.behaviour = { ...this.#defaults };
  }

  reset() {
    this.clearLog();
    this.clearFaults();
    this.resetBehaviour();
  }
}
