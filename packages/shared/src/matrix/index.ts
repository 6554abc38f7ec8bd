export * from './base64.ts';
export * from './canonical-json.ts';
export * from './noindex.ts';
export * from './request-auth.ts';
export * from './server-keys.ts';
export * from './server-name.ts';
export * from './signed-json.ts';
export * from './signing-key.ts';
