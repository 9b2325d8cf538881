'use strict';
// A small node program with four known hot JavaScript functions, for
// `perf record -g -- node --perf-basic-prof work.js [SECONDS]` (default 2 seconds).
//
//   sortMany   Array.prototype.sort with a JS comparator (time also in V8's
//              Builtins_ArrayTimSort / SortCompareUserFn, which call the comparator)
//   regexWork  a RegExp match/replace loop (time also in the RegExp JIT code,
//              which V8 names "RegExp:<source>" in the perf map)
//   fib        naive recursive Fibonacci (pure JS self time)
//   checksum   a typed-array loop (pure JS self time)
//
// plus renderTemplates, which (like a template engine) compiles two fresh small functions
// per round with eval (named render_tpl<N>), runs them until V8 has baseline (^) or
// optimized (*) code for them, and drops them.  Together with some old-generation garbage
// (RING) this makes V8 run major GCs and reuse the freed code space, so the perf map gets
// later lines whose ranges start at, or lie inside, the ranges of earlier (dead) code -
// and perf's own lookup then often names live code after dead templates.
//
// All inputs come from a fixed-seed PRNG; only the number of rounds depends on SECONDS.

function mulberry32(seed) {
  return function next() {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const rand = mulberry32(20240601);
const RECORDS = [];
for (let i = 0; i < 4000; i++) {
  RECORDS.push({ id: i, key: Math.floor(rand() * 1000), name: 'item' + Math.floor(rand() * 1e6) });
}
const LINES = [];
for (let i = 0; i < 800; i++) {
  LINES.push('user' + Math.floor(rand() * 1e5) + ' order' + i + ' sku' + Math.floor(rand() * 1e4));
}
const SAMPLES = new Float64Array(20000);
for (let i = 0; i < SAMPLES.length; i++) SAMPLES[i] = rand();

function sortMany(records) {
  const copy = records.slice();
  copy.sort((a, b) => a.key - b.key || b.id - a.id);
  return copy[0].id + copy[copy.length - 1].id;
}

function regexWork(lines) {
  const re = /([a-z]+)(\d+)/g;
  let total = 0;
  for (const line of lines) {
    let m;
    re.lastIndex = 0;
    while ((m = re.exec(line)) !== null) total += m[2].length + m[1].length;
    total += line.replace(re, '$2$1').length;
  }
  return total;
}

function fib(n) {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

function checksum(samples) {
  let h = 0;
  for (let r = 0; r < 16; r++) {
    for (let i = 0; i < samples.length; i++) {
      h = (Math.imul(h, 31) + ((samples[i] * 1e6) | 0)) | 0;
    }
  }
  return h;
}

const RING = new Array(16);

function renderTemplates(round) {
  let acc = 0;
  for (let t = 0; t < 2; t++) {
    const id = round * 2 + t;
    // eslint-disable-next-line no-eval
    const fn = eval(`(function render_tpl${id}(x) {
      let s = ${id};
      for (let i = 0; i < 100; i++) s = (s + x * i) | 0;
      return s;
    })`);
    for (let i = 0; i < 200; i++) acc = (acc + fn(i)) | 0;
  }
  // Old-generation garbage: each array survives 16 rounds, then dies.
  RING[round % RING.length] = new Array(100000).fill(round);
  return acc;
}

function main() {
  const seconds = process.argv.length > 2 ? Number(process.argv[2]) : 2;
  if (!(seconds > 0 && seconds <= 3600)) {
    console.error('usage: node work.js [SECONDS]');
    process.exit(2);
  }
  const deadline = Date.now() + seconds * 1000;
  let rounds = 0;
  let acc = 0;
  while (Date.now() < deadline) {
    acc = (acc + sortMany(RECORDS)) | 0;
    acc = (acc + regexWork(LINES)) | 0;
    acc = (acc + fib(24)) | 0;
    acc = (acc + checksum(SAMPLES)) | 0;
    acc = (acc + renderTemplates(rounds)) | 0;
    rounds++;
  }
  console.log(`work.js: pid=${process.pid} rounds=${rounds} acc=${acc}`);
}

main();
