import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const REPO_ROOT = path.resolve(import.meta.dirname, '../../../..');
const MB = 1024 * 1024;

describe('language detection', () => {
  it("holds the detector's tables only once a language is needed, and detects then", () => {
    // A process of its own, as an API replica: this one may have loaded the tables already.
    const script = `
      const heap = () => { globalThis.gc(); return process.memoryUsage().heapUsed; };
      const base = heap();
      const search = await import('@atlas/shared/search');
      const imported = heap();
      let early = '';
      try { search.detectRoomLanguage('Bienvenue dans le salon des amateurs de jardinage', null); }
      catch (error) { early = error.message; }
      await search.loadLanguageDetector();
      const language = search.detectRoomLanguage('Bienvenue dans le salon des amateurs de jardinage', null);
      const loaded = heap();
      console.log(JSON.stringify({ imported: imported - base, loaded: loaded - imported, early, language }));`;
    const output = execFileSync(
      process.execPath,
      ['--import', 'tsx', '--expose-gc', '--input-type=module', '--eval', script],
      { cwd: REPO_ROOT, encoding: 'utf8' },
    );
    const result = JSON.parse(output.trim().split('\n').at(-1) ?? '{}');
    expect(result.language).toBe('fr');
    expect(result.early).toMatch(/await loadLanguageDetector\(\) first/);
    // The tables are tens of megabytes; importing the search module costs a few.
    expect(result.loaded).toBeGreaterThan(30 * MB);
    expect(result.imported).toBeLessThan(20 * MB);
  });
});
