import type { HttpBindings } from '@hono/node-server';
import type { AppDeps } from './deps.ts';

export interface AppEnv {
  /** The node request and response, when served by @hono/node-server (absent under `app.request()`). */
  Bindings: Partial<HttpBindings>;
  Variables: {
    deps: AppDeps;
    requestId: string;
    /** The caller's address, after trusted proxies (see middleware/client-ip.ts). */
    clientIp: string;
    /** Set by the X-Matrix check on federation endpoints. */
    origin: string;
  };
}
