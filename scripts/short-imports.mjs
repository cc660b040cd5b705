// Gives the .wasm's imports short names, and the glue's import object the same ones.
//
// wasm-bindgen names each import after the JS function it wraps plus a 16-hex-digit hash
// (`__wbg_new_with_str_and_init_d9f6b5611184e16b`), all under the module "./…_bg.js". Those names
// appear twice in what a page downloads, in the .wasm and in the glue, and the hashes do not
// compress: about 2 KB gzip in all. Imports are private between the two files (exports, which
// the glue's InitOutput type lists, are left alone), so renaming both sides changes nothing else.
//
// Fails, changing nothing, unless every import is found exactly once in the glue.
// Run by scripts/build, before the glue is minified:  node scripts/short-imports.mjs <wasm> <glue.js>
import { readFileSync, writeFileSync } from "node:fs";

const [wasmPath, gluePath] = process.argv.slice(2);
if (!wasmPath || !gluePath) throw new Error("usage: short-imports.mjs <file.wasm> <glue.js>");

const wasm = readFileSync(wasmPath);
let glue = readFileSync(gluePath, "utf8");

// --- the few pieces of the binary format this needs -------------------------------------------

function readU32(bytes, at) {
  let value = 0;
  let shift = 0;
  for (;;) {
    if (at >= bytes.length || shift > 28) throw new Error(`short-imports: bad LEB128 number at byte ${at}`);
    const b = bytes[at++];
    value += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return [value, at];
    shift += 7;
  }
}

function u32(value) {
  const out = [];
  do {
    let b = value % 128;
    value = Math.floor(value / 128);
    if (value > 0) b |= 0x80;
    out.push(b);
  } while (value > 0);
  return Buffer.from(out);
}

const utf8 = new TextDecoder();
const name = (text) => Buffer.concat([u32(Buffer.byteLength(text)), Buffer.from(text)]);

function readName(bytes, at) {
  const [len, start] = readU32(bytes, at);
  if (start + len > bytes.length) throw new Error(`short-imports: a name at byte ${at} runs past the end`);
  return [utf8.decode(bytes.subarray(start, start + len)), start + len];
}

// Skips one import's description (after its two names); returns where the next import starts.
function skipDescription(bytes, at) {
  const kind = bytes[at++];
  const limits = (p) => {
    const flags = bytes[p++];
    [, p] = readU32(bytes, p);
    if (flags & 1) [, p] = readU32(bytes, p);
    return p;
  };
  switch (kind) {
    case 0: // function: type index
      return readU32(bytes, at)[1];
    case 1: // table: reference type, limits
      if (bytes[at] !== 0x70 && bytes[at] !== 0x6f) break;
      return limits(at + 1);
    case 2: // memory: limits
      return limits(at);
    case 3: // global: value type, mutability
      if (bytes[at] < 0x6f || bytes[at] > 0x7f) break;
      return at + 2;
  }
  throw new Error(`short-imports: import kind ${kind} at byte ${at} is not one this script knows`);
}

// Short, distinct, valid JS identifiers: a … z, A … Z, then two letters.
function shortName(i) {
  const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  let out = "";
  do {
    out = letters[i % letters.length] + out;
    i = Math.floor(i / letters.length) - 1;
  } while (i >= 0);
  return out;
}

// --- rewrite the import section ---------------------------------------------------------------

const sections = [];
let at = 8; // magic and version
while (at < wasm.length) {
  const id = wasm[at];
  const [size, start] = readU32(wasm, at + 1);
  sections.push({ id, start, end: start + size, raw: wasm.subarray(at, start + size) });
  at = start + size;
}
const section = sections.find((s) => s.id === 2);
if (!section) throw new Error("short-imports: the module has no import section");

let p = section.start;
let count;
[count, p] = readU32(wasm, p);
const modules = new Set();
const renamed = [];
const entries = [];
for (let i = 0; i < count; i++) {
  let module, field;
  [module, p] = readName(wasm, p);
  [field, p] = readName(wasm, p);
  const descStart = p;
  p = skipDescription(wasm, p);
  modules.add(module);
  const short = shortName(i);
  renamed.push([field, short]);
  entries.push(Buffer.concat([name("a"), name(short), wasm.subarray(descStart, p)]));
}
if (p !== section.end) throw new Error("short-imports: the import section did not parse to its end");
if (modules.size !== 1) throw new Error(`short-imports: expected one import module, found ${[...modules].join(", ")}`);
const [module] = modules;

// --- the glue's import object: `"<module>": import0` and one `<field>: function` per import ---

const count1 = (needle) => glue.split(needle).length - 1;
const moduleKey = `${JSON.stringify(module)}: import0`;
if (count1(moduleKey) !== 1) throw new Error(`short-imports: the glue does not have exactly one ${moduleKey}`);
glue = glue.replace(moduleKey, `"a": import0`);
for (const [field, short] of renamed) {
  const escaped = field.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const key = new RegExp(`^(\\s+)${escaped}(: function\\b|: )`, "m");
  const hits = glue.match(new RegExp(key.source, "gm"));
  if (!hits || hits.length !== 1) throw new Error(`short-imports: the glue defines import ${field} ${hits ? hits.length : 0} times`);
  glue = glue.replace(key, `$1${short}$2`);
}

const body = Buffer.concat([u32(count), ...entries]);
const newSection = Buffer.concat([Buffer.from([2]), u32(body.length), body]);
const out = Buffer.concat([wasm.subarray(0, 8), ...sections.map((s) => (s === section ? newSection : s.raw))]);
if (!WebAssembly.validate(out)) throw new Error("short-imports: the rewritten module does not validate");

writeFileSync(wasmPath, out);
writeFileSync(gluePath, glue);
console.log(`short-imports: ${count} imports renamed (${wasm.length - out.length} bytes less in the .wasm)`);
