export * from './backend.ts';
export * from './definitions.ts';
export * from './jobs.ts';
export * from './producer.ts';
