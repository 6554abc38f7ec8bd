import type { Command } from '../command.ts';

/**
 * A command of the table, loaded only when it runs (or for `atlas --help`): commands pull in very
 * different parts of Atlas (the search backend and its language models, the HTTP app), and a
 * process should carry only what its own command needs.
 */
export interface CommandEntry {
  name: string;
  load(): Promise<Command>;
}

/** Every `atlas` command, in the order `atlas --help` lists them. Add a command with one line here. */
export const COMMANDS: readonly CommandEntry[] = [
  { name: 'start', load: async () => (await import('./start.ts')).startCommand },
  { name: 'crawl', load: async () => (await import('./crawl.ts')).crawlCommand },
  { name: 'export', load: async () => (await import('./export.ts')).exportCommand },
  { name: 'migrate', load: async () => (await import('./migrate.ts')).migrateCommand },
  { name: 'api', load: async () => (await import('./api.ts')).apiCommand },
  { name: 'crawler', load: async () => (await import('./crawler.ts')).crawlerCommand },
  { name: 'reindex', load: async () => (await import('./reindex.ts')).reindexCommand },
  { name: 'element-config', load: async () => (await import('./element-config.ts')).elementConfigCommand },
];
