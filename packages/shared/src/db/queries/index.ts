export * from './blocks.ts';
export * from './crawl-runs.ts';
export * from './export.ts';
export * from './rooms.ts';
export * from './servers.ts';
export * from './sql-arrays.ts';
export * from './stats.ts';
