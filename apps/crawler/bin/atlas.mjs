#!/usr/bin/env node
// Atlas's command line. The sources are TypeScript; compiled-cli.mjs runs them compiled to
// JavaScript (rebuilt when a source changes), so there is still no build step to remember.
import v8 from 'node:v8';
import { loadMain } from './compiled-cli.mjs';

// V8's young generation grows to 2 × 16 MB under a crawl's allocation rate, and stays there: a
// third of a crawler's memory. Held at its initial 2 × 1 MB, objects that outlive a request move
// to the old generation sooner, which costs a little more CPU in garbage collection (see
// BENCHMARKS.md, "Crawl"). Set here, before anything is loaded, so every way of starting Atlas
// (npm start, the container, the tests, the benchmark) runs with it; node's own
// --max-semi-space-size on the command line still wins.
if (!process.execArgv.some((flag) => flag.startsWith('--max-semi-space-size'))) {
  v8.setFlagsFromString('--semi-space-growth-factor=1');
}

const main = await loadMain();

const code = await main(process.argv.slice(2));
process.exitCode = code;
// A command has closed what it opened when main returns; a handle left behind by a library must not
// keep the process alive, but give asynchronous log writes a moment to flush.
setTimeout(() => process.exit(code), 1000).unref();
