import type { AppDeps } from './deps.ts';

export interface AppEnv {
  Variables: {
    deps: AppDeps;
    requestId: string;
  };
}
