// The README's first example, run as written: the ```js block right after the `npm i
// retailrocket-tracker` line. The page maps the bare specifier "retailrocket-tracker" (import map)
// to a small shim over pkg/index.js that points trackingUrl/apiUrl at the mock, so the snippet's
// own text is not edited; then an event from it must reach the mock.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";
import { REPO_ROOT, collectConsoleErrors, launchBrowser, mockRequests, startStack, waitFor } from "../e2e/harness.mjs";
import { PKG_DIR, ensureLoaderBuilt, startStaticServer } from "./helpers.mjs";

/** The first ```js block after the `npm i retailrocket-tracker` line, or a reason it is absent. */
export function readmeSnippet(readme = path.join(REPO_ROOT, "README.md")) {
  if (!existsSync(readme)) return { skip: "README.md does not exist yet" };
  const text = readFileSync(readme, "utf8");
  const install = text.search(/^\s*npm (i|install) retailrocket-tracker\s*$/m);
  if (install < 0) return { skip: "README.md has no `npm i retailrocket-tracker` line" };
  const block = /^```js\s*\n([\s\S]*?)^```\s*$/m.exec(text.slice(install));
  if (!block) return { skip: "README.md has no ```js block after `npm i retailrocket-tracker`" };
  return { code: block[1] };
}

const snippet = readmeSnippet();
let stack;
let site;
let browser;

before(async () => {
  if (snippet.skip) return;
  ensureLoaderBuilt();
  stack = await startStack();
  const shim = `import init, { Tracker as Real } from "/pkg/index.js";
export * from "/pkg/index.js";
export default init;
export function Tracker(config) {
  return new Real({ ...config, trackingUrl: ${JSON.stringify(stack.mockUrl)}, apiUrl: ${JSON.stringify(stack.mockUrl)} });
}
`;
  const importMap = JSON.stringify({ imports: { "retailrocket-tracker": "/shim.js" } });
  site = await startStaticServer({
    mounts: { "/pkg/": PKG_DIR },
    pages: {
      "/shim.js": { body: shim },
      "/snippet.js": { body: `${snippet.code}\n;document.documentElement.dataset.done = "1";\n` },
      "/readme.html": {
        body: `<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,">
<script type="importmap">${importMap}</script>
<script type="module" src="/snippet.js"></script></head><body></body></html>\n`,
      },
    },
  });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await site?.close();
  await stack?.close();
});

test("the README's first example tracks against the mock", { skip: snippet.skip }, async () => {
  assert.match(snippet.code, /from "retailrocket-tracker"/, "the example imports the package by its name");
  const context = await browser.browser.newContext();
  const page = await context.newPage();
  const errors = collectConsoleErrors(page);
  await page.goto(`${site.url}/readme.html`);
  await page.waitForFunction(() => document.documentElement.dataset.done, null, { timeout: 15000 });
  // The automatic pageView may come first: wait for the example's own view when it has one.
  const viewed = /\.view\(101\)/.test(snippet.code);
  const events = await waitFor(async () => {
    const r = (await mockRequests(stack.mockUrl, "/1.0/event/")).filter((e) => !e.path.includes("/initialize/"));
    const own = r.filter((e) => !e.path.includes("/pageView/"));
    return own.length > 0 && (!viewed || own.some((e) => /^\/1\.0\/event\/view\/[0-9a-f]{24}\/101$/.test(e.path))) && r;
  }, { message: "an event from the README example reached the mock" });
  assert.ok(events.every((e) => e.status === 200), JSON.stringify(events.map((e) => [e.path, e.status])));
  assert.deepEqual(errors, []);
  await context.close();
});
