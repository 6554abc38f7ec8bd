export * from './blocks.ts';
export * from './crawl-runs.ts';
export * from './reports.ts';
export * from './room-listings.ts';
export * from './room-snapshots.ts';
export * from './rooms.ts';
export * from './server-checks.ts';
export * from './servers.ts';
