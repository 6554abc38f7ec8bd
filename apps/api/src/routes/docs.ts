import { html, raw } from 'hono/html';

interface OpenApiParameter {
  name: string;
  in: string;
  required?: boolean;
  description?: string;
  schema?: { type?: string; enum?: unknown[]; default?: unknown };
}

interface OpenApiOperation {
  summary?: string;
  description?: string;
  tags?: string[];
  parameters?: OpenApiParameter[];
  security?: unknown[];
  requestBody?: unknown;
  responses?: Record<string, { description?: string }>;
}

export interface OpenApiDocument {
  info: { title: string; version: string; description?: string };
  paths?: Record<string, Record<string, OpenApiOperation>>;
}

/**
 * A readable page generated from the OpenAPI document, rendered on the server with no scripts or
 * outside assets, so it works offline and behind strict policies.
 */
export function renderDocs(doc: OpenApiDocument) {
  const operations = Object.entries(doc.paths ?? {}).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => ({ path, method: method.toUpperCase(), operation })),
  );
  const tags = [...new Set(operations.map((o) => o.operation.tags?.[0] ?? 'Other'))];
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${doc.info.title} ${doc.info.version}</title>
<style>
body{font:16px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b}
h2{border-bottom:1px solid #ddd;margin-top:2.5rem}
.op{border:1px solid #ddd;border-radius:6px;padding:.5rem 1rem;margin:1rem 0}
.m{font-weight:700;font-family:monospace;padding:.1rem .4rem;border-radius:4px;background:#eef}
code{font-family:ui-monospace,monospace}
table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.2rem .5rem;border-top:1px solid #eee;vertical-align:top}
.lock{color:#a40}
</style>
</head>
<body>
<h1>${doc.info.title} <small>${doc.info.version}</small></h1>
<p>${doc.info.description ?? ''}</p>
<p>Machine-readable: <a href="/api/v1/openapi.json"><code>/api/v1/openapi.json</code></a>.
Errors are <code>{"error":{"code","message","requestId"}}</code>; Matrix endpoints answer <code>{"errcode","error"}</code>.</p>
${tags.map(
  (tag) => html`<h2>${tag}</h2>
${operations
  .filter((o) => (o.operation.tags?.[0] ?? 'Other') === tag)
  .map(
    ({ path, method, operation }) => html`<div class="op">
<p><span class="m">${method}</span> <code>${path}</code> ${operation.security ? raw('<span class="lock">admin token</span>') : ''}</p>
<p><strong>${operation.summary ?? ''}</strong></p>
<p>${operation.description ?? ''}</p>
${
  operation.parameters?.length
    ? html`<table><tr><th>parameter</th><th>in</th><th>type</th><th>meaning</th></tr>
${operation.parameters.map(
  (p) =>
    html`<tr><td><code>${p.name}</code>${p.required ? ' (required)' : ''}</td><td>${p.in}</td><td>${
      p.schema?.enum ? p.schema.enum.join(' | ') : (p.schema?.type ?? '')
    }</td><td>${p.description ?? ''}</td></tr>`,
)}</table>`
    : ''
}
${operation.requestBody ? html`<p>Body: JSON (see the OpenAPI document).</p>` : ''}
<p>Responses: ${Object.entries(operation.responses ?? {})
      .map(([status, r]) => `${status} ${r.description ?? ''}`)
      .join(' · ')}</p>
</div>`,
  )}`,
)}
</body>
</html>`;
}
