/**
 * The public JSON shapes of Atlas's API, which the pages read too: the one place they are declared.
 * Answers are mapped into them explicitly, never passed through from a row.
 */
export * from './element-config.ts';
export * from './rooms.ts';
export * from './servers.ts';
export * from './stats.ts';
