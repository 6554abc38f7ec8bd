#!/usr/bin/env node
// Atlas's command line. The sources are TypeScript, loaded through tsx so there is no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
