export { createApp } from './app.ts';
export { type AppDepsInput, apiSettings, createAppDeps } from './create-deps.ts';
export { type ApiSettings, type AppDeps, DEFAULT_SETTINGS } from './deps.ts';
export type { AppEnv } from './env.ts';
export { type ApiRoleOptions, type RunningApi, startApiRole } from './role.ts';
export { type RunningServer, startServer } from './server.ts';
export {
  type ElementFeedExplained,
  type ElementFeedOptions,
  elementServerList,
  explainElementFeed,
} from './services/element-feed.ts';
