import { createRequire } from 'node:module';
import {
  type Browser,
  type BrowserContext,
  type BrowserContextOptions,
  chromium,
  type Page,
} from 'playwright-core';

/** Debian's Chromium, which the test command installs (scripts/install-system-deps.sh). */
export const CHROMIUM = '/usr/bin/chromium';

/**
 * Headless Chromium as a sandboxed test machine runs it: no background connections (the machine
 * has no internet, and Chromium would otherwise keep trying), no GPU, a fresh profile.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export interface PageWatch {
  /** Dialogs that opened (alert, confirm, prompt): a script that should not have run did. */
  dialogs: string[];
  /** Console messages about the Content-Security-Policy refusing something. */
  cspViolations: string[];
  /** Uncaught errors of the page's own script. */
  errors: string[];
}

/** A page whose dialogs, CSP refusals and script errors are recorded (and dialogs dismissed). */
export async function watchedPage(context: BrowserContext): Promise<{ page: Page; watch: PageWatch }> {
  const page = await context.newPage();
  const watch: PageWatch = { dialogs: [], cspViolations: [], errors: [] };
  page.on('dialog', (dialog) => {
    watch.dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    void dialog.dismiss();
  });
  page.on('console', (message) => {
    if (/Content.Security.Policy/i.test(message.text())) watch.cspViolations.push(message.text());
  });
  page.on('pageerror', (error) => watch.errors.push(error.message));
  return { page, watch };
}

export function contextOptions(options: { javaScript: boolean; width?: number } & BrowserContextOptions) {
  const { javaScript, width, ...rest } = options;
  return { javaScriptEnabled: javaScript, viewport: { width: width ?? 1280, height: 900 }, ...rest };
}

const require = createRequire(import.meta.url);

/** axe-core's browser bundle, injected into a page (its context must bypass the page's CSP). */
export function axeSource(): string {
  return require.resolve('axe-core/axe.min.js');
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[]; html: string }[];
}

/** The serious and critical accessibility violations axe finds on the page as it is now. */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  await page.addScriptTag({ path: axeSource() });
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(): Promise<{ violations: AxeViolation[] }> } }).axe;
    const result = await axe.run();
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 3).map((n) => ({ target: n.target, html: n.html.slice(0, 200) })),
    }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}
