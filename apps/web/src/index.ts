/**
 * Atlas's web UI: pages rendered on the server with hono/jsx, mounted by the API app at `/`, which
 * hands them the services its JSON routes use.
 */
export { allAssets, assetUrl } from './assets.ts';
export { CONTENT_SECURITY_POLICY, renderErrorPage, setPageHeaders, webRoutes } from './routes.tsx';
export type {
  Checked,
  QueryRecord,
  ReportInput,
  ReportOutcome,
  WebServices,
  WebSettings,
} from './services.ts';
