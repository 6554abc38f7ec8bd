#!/usr/bin/env node
// Atlas's command line. The sources are TypeScript, loaded through tsx so there is no build step.
import { register } from 'tsx/esm/api';

register();

const { main } = await import('../src/cli/main.ts');

const code = await main(process.argv.slice(2));
process.exitCode = code;
// A command has closed what it opened when main returns; a handle left behind by a library must not
// keep the process alive, but give asynchronous log writes a moment to flush.
setTimeout(() => process.exit(code), 1000).unref();
