export * from './element-config.ts';
