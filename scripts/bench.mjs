// Benchmark of the built package in headless Chromium against the local mock Retail Rocket.
//
//   bash scripts/bench              # setup, release build, then this script
//   node scripts/bench.mjs          # on an existing pkg/ (bash scripts/build first)
//   BENCH_LOADS=30 BENCH_SAMPLES=1000 node scripts/bench.mjs
//
// Prints a table and writes the same figures to target/bench/bench.json. It asserts nothing: the
// figures depend on the machine; compare ratios measured in one run, not absolute times across runs.
//   - download size (gzip -9 of the .wasm, the glue and the loader; scripts/size.mjs)
//   - time from import() of the package to a ready Tracker: median and p95 of BENCH_LOADS page loads,
//     each in a fresh browser context
//   - cost of one rr.view() with 0, 100 and 999 events already queued (kept pending by taking the
//     browser offline): median and p95 of BENCH_SAMPLES calls timed one by one with performance.now(),
//     on a cross-origin-isolated page (COOP/COEP), where Chromium's timer resolution is 5 µs, not 100 µs
//   - wasm linear memory (WebAssembly.Memory buffer) before and after 10 000 calls, and the JS heap
//     after a forced gc (Chromium runs with --expose-gc and --enable-precise-memory-info)
//   - requests and bytes on the wire per event, from the mock's log (URL + body length)
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { BUDGET_GZIP_BYTES, TARGET_GZIP_BYTES, measure } from "./size.mjs";
import { CHROMIUM_ARGS, PARTNER_ID, REPO_ROOT, launchBrowser, mockRequests, startStack, waitFor } from "../tests/e2e/harness.mjs";
import { PKG_DIR, ensureLoaderBuilt, startStaticServer } from "../tests/compat/helpers.mjs";

const LOADS = Number(process.env.BENCH_LOADS ?? 15);
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 400);
const QUEUED = [0, 100, 999];
const BATCH = 20; // samples taken before the queue is reset to its level again
const MEMORY_CALLS = 10_000;
const WIRE_EVENTS = 20;

const quantile = (values, q) => {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
};
const median = (v) => quantile(v, 0.5);
const p95 = (v) => quantile(v, 0.95);
const round = (n, digits = 3) => Number(n.toFixed(digits));

async function main() {
  ensureLoaderBuilt();
  const stack = await startStack();
  const isolated = { "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp" };
  const site = await startStaticServer({
    mounts: { "/pkg/": PKG_DIR },
    pages: { "/bench.html": { body: '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>bench</title>', headers: isolated } },
  });
  // gc() and exact performance.memory figures, for the heap measurement.
  const browser = await launchBrowser({ args: [...CHROMIUM_ARGS, "--js-flags=--expose-gc", "--enable-precise-memory-info"] });
  const config = { partnerId: PARTNER_ID, trackingUrl: stack.mockUrl, apiUrl: stack.mockUrl };
  const results = { when: new Date().toISOString(), chromium: browser.browser.version(), loads: LOADS, samples: SAMPLES };

  async function freshPage() {
    const context = await browser.browser.newContext();
    const page = await context.newPage();
    await page.goto(`${site.url}/bench.html`);
    return { context, page };
  }

  try {
    // 1. Size.
    const size = measure();
    results.size = {
      files: Object.fromEntries(size.rows.map((r) => [r.name, { raw: r.raw, gzip: r.gzip }])),
      totalGzip: size.total,
      budgetGzip: BUDGET_GZIP_BYTES,
      targetGzip: TARGET_GZIP_BYTES,
    };

    // 2. Import → ready Tracker, one fresh context per load (no compiled-code or HTTP cache).
    const startup = { importMs: [], initMs: [], trackerMs: [], totalMs: [] };
    for (let i = 0; i < LOADS; i++) {
      const { context, page } = await freshPage();
      const t = await page.evaluate(async (config) => {
        const t0 = performance.now();
        const { default: init, Tracker } = await import("/pkg/index.js");
        const t1 = performance.now();
        const ok = await init();
        const t2 = performance.now();
        const rr = new Tracker({ ...config, storage: "memory" });
        const t3 = performance.now();
        if (!ok || !rr.sessionExternalId) throw new Error("the tracker did not start");
        return { importMs: t1 - t0, initMs: t2 - t1, trackerMs: t3 - t2, totalMs: t3 - t0 };
      }, config);
      for (const k of Object.keys(startup)) startup[k].push(t[k]);
      await context.close();
    }
    results.startup = Object.fromEntries(Object.entries(startup).map(([k, v]) => [k, { median: round(median(v)), p95: round(p95(v)) }]));

    // 3. Cost of one call with 0, 100, 999 events queued (offline, so they stay queued).
    {
      const { context, page } = await freshPage();
      await page.evaluate(async (config) => {
        const { default: init, Tracker } = await import("/pkg/index.js");
        if (!(await init())) throw new Error("init() failed");
        window.rrBench = { Tracker, config: { ...config, maxQueue: 5000, onError: () => {} } };
        window.rr = new Tracker(window.rrBench.config);
      }, config);
      await context.setOffline(true);
      results.timer = await page.evaluate(() => {
        // The smallest step performance.now() takes on this page.
        let step = Infinity;
        for (let i = 0, last = performance.now(); i < 20000; i++) {
          const now = performance.now();
          if (now > last) step = Math.min(step, now - last);
          last = now;
        }
        return { crossOriginIsolated: self.crossOriginIsolated, resolutionMs: Number(step.toFixed(4)) };
      });
      // Levels take turns, one batch each, after a warm-up: no level gets the cold JIT or a
      // quieter moment to itself.
      const r = await page.evaluate(
        ({ levels, samples, batch }) => {
          const reset = (queued) => {
            // forget() empties the queue; without it, start over on empty storage.
            if (typeof window.rr.forget === "function") window.rr.forget();
            else {
              window.rr.free();
              localStorage.clear();
              window.rr = new window.rrBench.Tracker(window.rrBench.config);
            }
            for (let i = 0; i < queued; i++) window.rr.view(1 + (i % 1000));
            if (window.rr.pending < queued) throw new Error(`only ${window.rr.pending} of ${queued} queued`);
          };
          for (const queued of levels) {
            reset(queued);
            for (let i = 0; i < 200; i++) window.rr.view(101);
          }
          const out = Object.fromEntries(levels.map((q) => [q, { times: [], firsts: [], batchMs: 0, batchCalls: 0, queuedBefore: 0 }]));
          while (out[levels[0]].times.length < samples) {
            for (const queued of levels) {
              const o = out[queued];
              reset(queued);
              o.queuedBefore = Math.max(o.queuedBefore, window.rr.pending);
              for (let i = 0; i < batch; i++) {
                const t0 = performance.now();
                const ok = window.rr.view(101);
                o.times.push(performance.now() - t0);
                if (i === 0) o.firsts.push(o.times[o.times.length - 1]);
                if (!ok) throw new Error("view() returned false");
              }
              // A cross-check that does not depend on the timer's resolution: a batch, one timing.
              reset(queued);
              const t0 = performance.now();
              for (let i = 0; i < batch; i++) window.rr.view(101);
              o.batchMs += performance.now() - t0;
              o.batchCalls += batch;
            }
          }
          return out;
        },
        { levels: QUEUED, samples: SAMPLES, batch: BATCH },
      );
      results.callCost = {};
      for (const queued of QUEUED) {
        const o = r[queued];
        results.callCost[queued] = {
          medianMs: round(median(o.times), 4),
          p95Ms: round(p95(o.times), 4),
          meanInBatchesMs: round(o.batchMs / o.batchCalls, 4),
          firstOfBatchMedianMs: round(median(o.firsts), 4),
          queuedBeforeEachBatch: o.queuedBefore,
          calls: o.times.length,
        };
      }
      const c = results.callCost;
      results.ratios = {
        "median 999 / 0 queued": round(c[999].medianMs / c[0].medianMs, 2),
        "p95 999 / 0 queued": round(c[999].p95Ms / c[0].p95Ms, 2),
        "median 100 / 0 queued": round(c[100].medianMs / c[0].medianMs, 2),
        "batch mean 999 / 0 queued": round(c[999].meanInBatchesMs / c[0].meanInBatchesMs, 2),
      };
      await context.close();
    }

    // 4. Memory: wasm linear memory and JS heap before and after 10 000 calls (offline: the
    // queue fills to maxQueue, 1000 by default, and then drops the oldest, as in a long outage).
    {
      const { context, page } = await freshPage();
      await page.evaluate(async () => {
        const { default: init, Tracker } = await import("/pkg/index.js");
        if (!(await init())) throw new Error("init() failed");
        // The loader resolves a boolean; the generated glue's init() hands back the (already
        // instantiated) wasm exports, memory included.
        window.rrBench = { Tracker, wasm: await (await import("/pkg/retailrocket_tracker.js")).default() };
      });
      await context.setOffline(true);
      results.memory = await page.evaluate(
        ({ config, calls }) => {
          const FULL = 1000; // the default maxQueue
          const { Tracker, wasm } = window.rrBench;
          const heap = () => {
            if (typeof gc === "function") gc();
            return performance.memory ? performance.memory.usedJSHeapSize : null;
          };
          let dropped = 0;
          const rr = new Tracker({ ...config, onError: (e) => e.code === "queue_full" && dropped++ });
          const before = { wasmBytes: wasm.memory.buffer.byteLength, jsHeapBytes: heap() };
          // The first 1000 calls fill the queue; each later one also drops the oldest event.
          let t0 = 0;
          for (let i = 0; i < calls; i++) {
            if (i === FULL) t0 = performance.now();
            rr.view(1 + (i % 5000));
          }
          const atBoundMs = (performance.now() - t0) / (calls - FULL);
          const after = { wasmBytes: wasm.memory.buffer.byteLength, jsHeapBytes: heap() };
          return { calls, before, after, pendingAfter: rr.pending, queueFullReports: dropped, atBoundMs };
        },
        { config, calls: MEMORY_CALLS },
      );
      results.ratios["wasm memory after / before 10 000 calls"] = round(results.memory.after.wasmBytes / results.memory.before.wasmBytes, 2);
      await context.close();
    }

    // 5. The wire: what WIRE_EVENTS events cost in requests and bytes, as the mock received them.
    {
      await stack.mock.reset();
      const { context, page } = await freshPage();
      let browserRequests = 0;
      page.on("request", (req) => req.url().startsWith(stack.mockUrl) && browserRequests++);
      await page.evaluate(
        async ({ config, n }) => {
          const { default: init, Tracker } = await import("/pkg/index.js");
          if (!(await init())) throw new Error("init() failed");
          const rr = new Tracker(config);
          for (let i = 0; i < n; i++) rr.view(101 + (i % 12));
          await rr.flush();
        },
        { config, n: WIRE_EVENTS },
      );
      const log = await waitFor(async () => {
        const r = await mockRequests(stack.mockUrl);
        return r.filter((e) => e.path.startsWith("/1.0/event/view/")).length >= WIRE_EVENTS && r;
      }, { timeout: 15000, message: "every view reached the mock" });
      const bytes = (r) => r.path.length + (r.rawQuery ? r.rawQuery.length + 1 : 0) + (r.body ? Buffer.byteLength(r.body) : 0);
      const views = log.filter((e) => e.path.startsWith("/1.0/event/view/"));
      const handshakes = log.filter((e) => e.path.startsWith("/1.0/event/initialize/"));
      results.wire = {
        events: WIRE_EVENTS,
        requests: log.length,
        handshakes: handshakes.length,
        requestsPerEvent: round(log.length / WIRE_EVENTS, 2),
        browserRequestsToMock: browserRequests,
        allAccepted: log.every((e) => e.status === 200),
        bytesPerViewMedian: median(views.map(bytes)),
        bytesTotal: log.reduce((sum, r) => sum + bytes(r), 0),
        bytesPerEvent: round(log.reduce((sum, r) => sum + bytes(r), 0) / WIRE_EVENTS, 1),
        exampleView: views[0] && `${views[0].method} ${views[0].path}?${views[0].rawQuery}`,
      };
      await context.close();
    }
  } finally {
    await browser.close();
    await site.close();
    await stack.close();
  }

  const out = path.join(REPO_ROOT, "target", "bench", "bench.json");
  await mkdir(path.dirname(out), { recursive: true });
  await writeFile(out, JSON.stringify(results, null, 2) + "\n");
  console.log(table(results));
  console.log(`\nwritten to ${path.relative(process.cwd(), out) || out}`);
}

function table(r) {
  const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
  const ms = (n) => `${n.toFixed(3)} ms`;
  const rows = [
    ["download size, gzip -9 (total)", `${kb(r.size.totalGzip)} (budget ${kb(r.size.budgetGzip)}, target ${kb(r.size.targetGzip)})`],
    ...Object.entries(r.size.files).map(([f, s]) => [`  ${f}`, `${kb(s.gzip)} gzip, ${kb(s.raw)} raw`]),
    [`import → ready Tracker (${r.loads} loads)`, `median ${ms(r.startup.totalMs.median)}, p95 ${ms(r.startup.totalMs.p95)}`],
    ["  import() of the loader", `median ${ms(r.startup.importMs.median)}`],
    ["  init() (glue + .wasm fetch, compile)", `median ${ms(r.startup.initMs.median)}`],
    ["  new Tracker()", `median ${ms(r.startup.trackerMs.median)}`],
    ["timer", `resolution ${r.timer.resolutionMs} ms, crossOriginIsolated ${r.timer.crossOriginIsolated}`],
    ...Object.entries(r.callCost).map(([q, c]) => [
      `rr.view() with ${q} queued (${c.calls} calls)`,
      `median ${ms(c.medianMs)}, p95 ${ms(c.p95Ms)}, mean in batches of ${BATCH} ${ms(c.meanInBatchesMs)}, ` +
        `first after reset ${ms(c.firstOfBatchMedianMs)}`,
    ]),
    [`rr.view() with the queue full (1000, default maxQueue)`, `mean ${ms(r.memory.atBoundMs)} over ${r.memory.calls - 1000} calls, each dropping the oldest`],
    [`wasm memory before / after ${r.memory.calls} calls`, `${kb(r.memory.before.wasmBytes)} / ${kb(r.memory.after.wasmBytes)} (pending ${r.memory.pendingAfter}, queue_full reports ${r.memory.queueFullReports})`],
    ["JS heap after gc, before / after", r.memory.before.jsHeapBytes == null ? "n/a" : `${kb(r.memory.before.jsHeapBytes)} / ${kb(r.memory.after.jsHeapBytes)}`],
    [`wire: ${r.wire.events} views`, `${r.wire.requests} requests logged by the mock (${r.wire.handshakes} handshake; the browser made ${r.wire.browserRequestsToMock}), ${r.wire.requestsPerEvent} per event, all 200: ${r.wire.allAccepted}`],
    ["  bytes per view (URL + body)", `median ${r.wire.bytesPerViewMedian} B; ${r.wire.bytesPerEvent} B per event incl. handshake`],
    ...Object.entries(r.ratios).map(([k, v]) => [`ratio ${k}`, `${v}×`]),
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join("\n");
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
