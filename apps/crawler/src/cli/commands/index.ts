import type { Command } from '../command.ts';
import { apiCommand } from './api.ts';
import { crawlCommand } from './crawl.ts';
import { crawlerCommand } from './crawler.ts';
import { elementConfigCommand } from './element-config.ts';
import { exportCommand } from './export.ts';
import { migrateCommand } from './migrate.ts';
import { reindexCommand } from './reindex.ts';
import { startCommand } from './start.ts';

/** Every `atlas` command, in the order `atlas --help` lists them. Add a command with one line here. */
export const COMMANDS: readonly Command[] = [
  startCommand,
  crawlCommand,
  exportCommand,
  migrateCommand,
  apiCommand,
  crawlerCommand,
  reindexCommand,
  elementConfigCommand,
];
