export * from './backend.ts';
export * from './definitions.ts';
export * from './payloads.ts';
