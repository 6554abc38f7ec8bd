export * from './clean.ts';
export * from './ids.ts';
