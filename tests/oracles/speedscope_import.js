// Load a profile file with speedscope's own importer (the npm package's built app, run
// under node with the few browser globals its module setup touches) and print what
// speedscope made of it as JSON: per profile its name, unit, total weight and, per frame,
// speedscope's self and total weights.
//
// usage: node speedscope_import.js SPEEDSCOPE_PACKAGE_DIR PROFILE_FILE
//        node speedscope_import.js SPEEDSCOPE_PACKAGE_DIR --serve   (paths on stdin)
//
// The bundle is an IIFE that renders the app at its end. Its importer module is reached
// through the promise the app itself keeps for it ("var X=Promise.resolve().then(() =>
// (init(), importerExports))"); we stop the bundle just before it renders and hand out
// that promise. The patterns are checked: a speedscope whose bundle does not match fails
// loudly rather than testing nothing.
'use strict';
const fs = require('fs');
const path = require('path');
const vm = require('vm');

function fail(msg) {
  process.stderr.write(`speedscope_import: ${msg}\n`);
  process.exit(2);
}

const [pkgDir, file] = process.argv.slice(2);
if (!pkgDir || !file) fail('usage: node speedscope_import.js PACKAGE_DIR FILE');
const rel = path.join(pkgDir, 'dist', 'release');
const bundles = fs.readdirSync(rel).filter((f) => /^speedscope-.*\.js$/.test(f));
if (bundles.length !== 1) fail(`expected one speedscope-*.js in ${rel}, found ${bundles}`);
const src = fs.readFileSync(path.join(rel, bundles[0]), 'utf8');

const exportsMatch = /var ([\w$]+)=\{\};[\w$]+\(\1,\{importFromFileSystemDirectoryEntry:/.exec(src);
if (!exportsMatch) fail('importer module not found in the bundle');
const modVar = exportsMatch[1];
const promiseRx = new RegExp(`var ([\\w$]+)=Promise\\.resolve\\(\\)\\.then\\(\\(\\)=>\\([\\w$]+\\(\\),${modVar.replace(/\$/g, '\\$')}\\)\\);`);
const promiseMatch = promiseRx.exec(src);
if (!promiseMatch) fail('importer promise not found in the bundle');
const marker = 'console.log(`speedscope v';
const at = src.lastIndexOf(marker);
if (at < 0) fail('app start not found in the bundle');
const patched = `${src.slice(0, at)}globalThis.__jitprofImporter=${promiseMatch[1]};return;${src.slice(at)}`;

const noop = () => {};
const ctx = {
  console: { log: noop, warn: noop, error: (...a) => process.stderr.write(a.join(' ') + '\n') },
  window: {
    location: { hash: '', search: '', href: 'file:///' },
    addEventListener: noop,
    matchMedia: () => ({ matches: false, addEventListener: noop, addListener: noop }),
  },
  navigator: { userAgent: 'node', platform: 'Linux' },
  document: { addEventListener: noop, createElement: () => ({ getContext: () => null, style: {} }) },
  localStorage: { getItem: () => null, setItem: noop },
};
for (const k of ['setTimeout', 'clearTimeout', 'TextDecoder', 'TextEncoder', 'URL', 'Blob',
                 'DecompressionStream', 'Response', 'WebAssembly']) {
  if (k in globalThis) ctx[k] = globalThis[k];
}
ctx.globalThis = ctx;
ctx.self = ctx;
vm.createContext(ctx);
vm.runInContext(patched, ctx, { filename: bundles[0] });

async function load(importer, file) {
  const data = fs.readFileSync(file);
  const buf = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength);
  const group = await importer.importProfilesFromArrayBuffer(path.basename(file), buf);
  if (!group) return { error: `speedscope could not import ${file}` };
  const out = { name: group.name, profiles: [] };
  for (const p of group.profiles) {
    const frames = [];
    p.forEachFrame((f) => {
      frames.push({ name: f.name, file: f.file === undefined ? null : f.file,
                    self: f.getSelfWeight(), total: f.getTotalWeight() });
    });
    out.profiles.push({ name: p.getName(), unit: p.getWeightUnit(),
                        total: p.getTotalWeight(), frames });
  }
  return out;
}

(async () => {
  const importer = await ctx.__jitprofImporter;
  if (file !== '--serve') {
    const out = await load(importer, file);
    if (out.error) fail(out.error);
    process.stdout.write(JSON.stringify(out));
    return;
  }
  // --serve: one path per line on stdin, one JSON line per path on stdout (the bundle is
  // loaded once for a whole test session)
  const rl = require('readline').createInterface({ input: process.stdin });
  for await (const line of rl) {
    let out;
    try {
      out = await load(importer, line);
    } catch (e) {
      out = { error: e && e.stack ? e.stack : String(e) };
    }
    process.stdout.write(JSON.stringify(out) + '\n');
  }
})().catch((e) => fail(e && e.stack ? e.stack : String(e)));
