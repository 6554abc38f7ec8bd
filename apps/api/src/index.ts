export { createApp } from './app.ts';
export type { AppDeps } from './deps.ts';
export type { AppEnv } from './env.ts';
export { type RunningServer, startServer } from './server.ts';
