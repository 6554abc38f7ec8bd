#!/usr/bin/env node
// Atlas's command line. The sources are TypeScript; compiled-cli.mjs runs them compiled to
// JavaScript (rebuilt when a source changes), so there is still no build step to remember.
import { loadMain } from './compiled-cli.mjs';
import { applyV8Flags } from './v8-flags.mjs';

// Set before anything else is loaded, so every way of starting a command (the container's roles,
// `crawl --once`, the tests, the benchmarks) runs with them.
applyV8Flags(process.argv[2]);

const main = await loadMain();

const code = await main(process.argv.slice(2));
process.exitCode = code;
// A command has closed what it opened when main returns; a handle left behind by a library must not
// keep the process alive, but give asynchronous log writes a moment to flush.
setTimeout(() => process.exit(code), 1000).unref();
