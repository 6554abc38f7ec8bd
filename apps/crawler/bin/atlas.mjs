#!/usr/bin/env node
// Atlas's command line. The sources are TypeScript; compiled-cli.mjs runs them compiled to
// JavaScript (rebuilt when a source changes), so there is still no build step to remember.
import v8 from 'node:v8';
import { loadMain } from './compiled-cli.mjs';

// Memory over speed for the commands that crawl, set here, before anything is loaded, so every way
// of starting them (the container's crawler role, `crawl --once`, the tests, the benchmark) runs
// with it. Under a crawl's allocation rate V8 let the heap grow to about three times what is live
// (~40 MB live, ~130 MB held) before a full collection; optimizing for size keeps it near what is
// live, for more, shorter collections (BENCHMARKS.md, "Crawl": with the compiled CLI, the crawler's
// peak memory went from 311 to 163 MB; its CPU rose ~16 %). Not for the commands that answer
// searches (`api`, and `start`, which serves the API too): there it collects ~15 times as often and
// takes the search p99 from ~10 ms to ~116 ms (BENCHMARKS.md, "Search").
const SERVES_SEARCHES = new Set(['start', 'api']);
if (!SERVES_SEARCHES.has(process.argv[2] ?? '')) v8.setFlagsFromString('--optimize-for-size');

const main = await loadMain();

const code = await main(process.argv.slice(2));
process.exitCode = code;
// A command has closed what it opened when main returns; a handle left behind by a library must not
// keep the process alive, but give asynchronous log writes a moment to flush.
setTimeout(() => process.exit(code), 1000).unref();
