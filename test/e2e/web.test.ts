import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManifestRoom } from '../simfed/model.ts';
import { getJson, REPO_ROOT } from '../support/atlas-process.ts';
import {
  ADMIN_TOKEN,
  HOSTILE,
  REPORTS_PER_HOUR,
  startWebFixture,
  type WebFixture,
} from './support/atlas-web.ts';
import { contextOptions, launchChromium, seriousViolations, watchedPage } from './support/browser.ts';

// The web UI as a person meets it: `atlas start` over a crawled simulated federation, driven in
// Debian's Chromium, once with JavaScript and once without.
let fx: WebFixture;
let browser: Browser;

const SCREENSHOTS = path.join(REPO_ROOT, '.cache/screenshots');

beforeAll(async () => {
  fx = await startWebFixture('web-ui');
  browser = await launchChromium();
  await mkdir(SCREENSHOTS, { recursive: true });
}, 420_000);

afterAll(async () => {
  await browser?.close();
  await fx?.close();
});

interface Card {
  href: string;
  name: string;
  members: number;
  complexityLevel: string;
  complexityValue: number | null;
  space: boolean;
  joinRule: string | null;
  language: string | null;
  join: string;
  joinHref: string;
}

/** The room cards of the results, as a person reads them. */
async function cards(page: Page): Promise<Card[]> {
  const raw = await page.$$eval('#results article.card.room', (elements) =>
    elements.map((e) => ({
      href: e.querySelector('.card-title a')?.getAttribute('href') ?? '',
      name: e.querySelector('.card-title a')?.textContent ?? '',
      members: e.querySelector('.members')?.textContent ?? '',
      complexityClass: e.querySelector('.badge.complexity')?.className ?? '',
      complexityValue: e.querySelector('.badge.complexity .value')?.textContent ?? '',
      space: e.querySelector('.badge.space') !== null,
      joinRule: e.querySelector('.badge.join-rule')?.textContent ?? null,
      language: e.querySelector('.language')?.textContent ?? null,
      join: e.querySelector('a.join')?.textContent ?? '',
      joinHref: e.querySelector('a.join')?.getAttribute('href') ?? '',
    })),
  );
  return raw.map((r) => {
    const value = /([\d.]+)/.exec(r.complexityValue)?.[1];
    return {
      href: r.href,
      name: r.name,
      members: Number(r.members.replace(/[^\d]/g, '')),
      complexityLevel: /complexity-(\w+)/.exec(r.complexityClass)?.[1] ?? '',
      complexityValue: value === undefined ? null : Number(value),
      space: r.space,
      joinRule: r.joinRule,
      language: r.language,
      join: r.join,
      joinHref: r.joinHref,
    };
  });
}

function roomPath(roomId: string): string {
  return `/rooms/${encodeURIComponent(roomId)}`;
}

/** A room with a plain one-word-first name, an alias and enough members to be found. */
function plainRoom(predicate: (room: ManifestRoom) => boolean = () => true): ManifestRoom {
  const hostile = new Set(Object.values(fx.hostile));
  const room = fx.rooms
    .filter(
      (r) => !hostile.has(r.room_id) && r.name && /^[A-Za-z]+ [A-Za-z]+/.test(r.name) && r.canonical_alias,
    )
    .filter(predicate)
    .sort((a, b) => b.num_joined_members - a.num_joined_members)[0];
  if (!room) throw new Error('no plain room in the simulated federation');
  return room;
}

/** The matrix.to link a person should get, worked out from what the servers publish. */
function expectedJoinUrl(room: ManifestRoom): string {
  const own = (id: string | null) => (id?.includes(':') ? id.slice(id.indexOf(':') + 1) : null);
  const via: string[] = [];
  for (const server of [
    own(room.room_id) ?? own(room.canonical_alias),
    ...(fx.listedBy.get(room.room_id) ?? []),
  ]) {
    if (server && !via.includes(server) && via.length < 5) via.push(server);
  }
  const target = encodeURIComponent(room.canonical_alias ?? room.room_id);
  return `https://matrix.to/#/${target}?${via.map((v) => `via=${encodeURIComponent(v)}`).join('&')}`;
}

async function withPage<T>(javaScript: boolean, body: (page: Page, context: BrowserContext) => Promise<T>) {
  const context = await browser.newContext(contextOptions({ javaScript }));
  try {
    const { page, watch } = await watchedPage(context);
    const result = await body(page, context);
    expect(watch.dialogs).toEqual([]);
    expect(watch.errors).toEqual([]);
    expect(watch.cspViolations).toEqual([]);
    return result;
  } finally {
    await context.close();
  }
}

/**
 * Sets a filter the way a person does: with JavaScript the results follow the change by
 * themselves (and the address with them); without, "Apply filters" submits the form.
 */
async function applyFilter(page: Page, javaScript: boolean, param: string, set: () => Promise<void>) {
  const summary = page.locator('details.filters > summary');
  if (!(await page.locator('details.filters').evaluate((d) => (d as HTMLDetailsElement).open)))
    await summary.click();
  await set();
  if (javaScript) {
    await page.waitForURL((url) => url.searchParams.has(param));
    await page.waitForFunction(
      () => document.getElementById('results')?.getAttribute('aria-busy') !== 'true',
    );
  } else {
    await Promise.all([
      page.waitForURL((url) => url.searchParams.has(param)),
      page.getByRole('button', { name: 'Apply filters' }).click(),
    ]);
  }
}

describe.each([
  { javaScript: true, mode: 'with JavaScript' },
  { javaScript: false, mode: 'without JavaScript' },
])('the rooms page $mode', ({ javaScript }) => {
  it('finds a room by a word of its name', async () => {
    const room = plainRoom();
    const word = room.name?.split(' ')[0] ?? '';
    await withPage(javaScript, async (page) => {
      await page.goto(`${fx.base}/`);
      await page.getByLabel('Search rooms').fill(word);
      if (javaScript) {
        // No Enter: the results and the address follow the typing.
        await page.waitForURL((url) => url.searchParams.get('q') === word);
      } else {
        await Promise.all([
          page.waitForURL((url) => url.searchParams.get('q') === word),
          page.keyboard.press('Enter'),
        ]);
      }
      const found = await page.locator(`#results .card-title a[href="${roomPath(room.room_id)}"]`).first();
      await found.waitFor();
      const card = (await cards(page)).find((c) => c.href === roomPath(room.room_id));
      expect(card?.members).toBe(room.num_joined_members);
      expect(await page.locator('#results-summary').textContent()).toMatch(
        new RegExp(`room.* for “${word}”`),
      );
    });
  });

  it('narrows the results by every filter', async () => {
    await withPage(javaScript, async (page) => {
      const check = async (param: string, set: () => Promise<void>, each: (card: Card) => boolean) => {
        await page.goto(`${fx.base}/`);
        await applyFilter(page, javaScript, param, set);
        const shown = await cards(page);
        expect(shown.length, `${param}: some rooms`).toBeGreaterThan(0);
        for (const card of shown) expect(each(card), `${param}: ${card.name}`).toBe(true);
      };
      await check(
        'type',
        async () => {
          await page.getByLabel('Rooms or spaces').selectOption('space');
        },
        (c) => c.space,
      );
      await check(
        'join_rule',
        async () => {
          await page.getByLabel('How to join').selectOption('knock');
        },
        (c) => c.joinRule === 'Ask to join',
      );
      await check(
        'min_members',
        () => page.getByLabel('Members at least').fill('40'),
        (c) => c.members >= 40,
      );
      await check(
        'max_members',
        () => page.getByLabel('Members at most').fill('5'),
        (c) => c.members <= 5,
      );
      await check(
        'world_readable',
        () => page.getByLabel('Readable without joining').check(),
        (c) => c.join === 'View',
      );
      await check(
        'joinable',
        async () => {
          await page.getByLabel('Server limit').selectOption('true');
        },
        (c) => c.complexityLevel !== 'heavy',
      );
      await check(
        'joinable_limit',
        async () => {
          await page.getByLabel('Server limit').selectOption('custom');
          await page.getByLabel('My limit_remote_rooms complexity').fill('0.3');
          if (javaScript) await page.getByLabel('My limit_remote_rooms complexity').press('Tab');
        },
        (c) => c.complexityValue === null || c.complexityValue <= 0.3,
      );
      // The language list offers the languages rooms are in, most rooms first.
      await page.goto(`${fx.base}/`);
      await page.locator('details.filters > summary').click();
      const option = await page.locator('#f-language option').nth(1);
      const language = ((await option.textContent()) ?? '').replace(/ \([\d,]+\)$/, '');
      await check(
        'language',
        async () => {
          await page.getByLabel('Language').selectOption({ index: 1 });
        },
        (c) => c.language === language,
      );
    });
  });

  it('sorts by members, growth, newest, complexity and relevance, as the API does', async () => {
    await withPage(javaScript, async (page) => {
      // Each sort chosen after the one before, as a person tries them in turn.
      await page.goto(`${fx.base}/?q=chat`);
      for (const sort of ['members', 'growth7d', 'newest', 'complexity', 'relevance']) {
        await page.getByLabel('Sort by').selectOption(sort);
        if (javaScript) {
          await page.waitForURL((url) => url.searchParams.get('sort') === sort);
        } else {
          await Promise.all([
            page.waitForURL((url) => url.searchParams.get('sort') === sort),
            page.locator('#q').press('Enter'),
          ]);
        }
        const shown = await cards(page);
        const api = await getJson<{ rooms: { room_id: string }[] }>(
          `${fx.base}/api/v1/rooms?q=chat&sort=${sort}`,
        );
        expect(
          shown.map((c) => c.href),
          sort,
        ).toEqual(api.rooms.map((r) => roomPath(r.room_id)));
        if (sort === 'members') {
          const members = shown.map((c) => c.members);
          expect(members).toEqual([...members].sort((a, b) => b - a));
        }
        if (sort === 'complexity') {
          const known = shown.filter((c) => c.complexityValue !== null).map((c) => c.complexityValue ?? 0);
          expect(known).toEqual([...known].sort((a, b) => a - b));
        }
      }
    });
  });

  it('pages forward and back', async () => {
    await withPage(javaScript, async (page) => {
      await page.goto(`${fx.base}/`);
      const first = (await cards(page)).map((c) => c.href);
      expect(first).toHaveLength(20);
      await Promise.all([page.waitForURL(/cursor=/), page.getByRole('link', { name: 'Next page' }).click()]);
      const second = await cards(page);
      expect(second.length).toBeGreaterThan(0);
      expect(second.some((c) => first.includes(c.href))).toBe(false);
      expect(await page.locator('.pager .page').textContent()).toBe('Page 2');
      await Promise.all([page.waitForURL(/cursor=/), page.getByRole('link', { name: 'Next page' }).click()]);
      expect(await page.locator('.pager .page').textContent()).toBe('Page 3');
      await Promise.all([
        page.waitForURL(/cursor=/),
        page.getByRole('link', { name: 'Previous page' }).click(),
      ]);
      expect((await cards(page)).map((c) => c.href)).toEqual(second.map((c) => c.href));
      await page.getByRole('link', { name: 'Previous page' }).click();
      await page.waitForURL((url) => !url.searchParams.has('cursor'));
      expect((await cards(page)).map((c) => c.href)).toEqual(first);
      // The browser's own back button shows what it showed before.
      await page.goBack();
      expect((await cards(page)).map((c) => c.href)).toEqual(second.map((c) => c.href));
    });
  });

  it('opens a room and joins it through matrix.to with the right via servers', async () => {
    const room = plainRoom();
    await withPage(javaScript, async (page) => {
      await page.goto(`${fx.base}/?q=${encodeURIComponent(room.canonical_alias ?? '')}`);
      // An alias typed into the box puts that room first.
      await page.locator('.direct .card-title a').click();
      await page.waitForURL(`${fx.base}${roomPath(room.room_id)}`);
      expect(await page.locator('h1').textContent()).toContain(room.name);
      expect(await page.locator('.room-head .alias').textContent()).toBe(room.canonical_alias);
      const join = page.locator('.actions a.join');
      expect(await join.getAttribute('href')).toBe(expectedJoinUrl(room));
      expect(await join.textContent()).toBe(
        room.world_readable ? 'View with matrix.to' : 'Join with matrix.to',
      );
      expect(await page.getByRole('link', { name: 'Open in Element' }).getAttribute('href')).toBe(
        expectedJoinUrl(room).replace('https://matrix.to/#/', 'https://app.element.io/#/room/'),
      );
      expect(await page.locator('.big-number').textContent()).toBe(
        `${room.num_joined_members.toLocaleString('en')} member${room.num_joined_members === 1 ? '' : 's'} now`,
      );
      for (const server of fx.listedBy.get(room.room_id) ?? []) {
        await expect(page.locator('.listings').getByText(server, { exact: true }).count()).resolves.toBe(1);
      }
      // The alias can be copied with a button where a script can do it; without, there is no button.
      expect(await page.getByRole('button', { name: 'Copy the alias' }).isVisible()).toBe(javaScript);
      // The complexity verdict follows the limit asked about.
      if (room.complexity !== null && room.complexity > 0.01) {
        await page.getByLabel('Check another limit').fill('0.01');
        await Promise.all([
          page.waitForURL(/limit=0.01/),
          page.getByRole('button', { name: 'Check', exact: true }).click(),
        ]);
        expect(await page.locator('.verdict').textContent()).toContain('refuses to join');
      }
    });
  });

  it('says plainly when a named room is not in the directory', async () => {
    await withPage(javaScript, async (page) => {
      await page.goto(`${fx.base}/?q=${encodeURIComponent('#nowhere:nothing.example')}`);
      expect(await page.locator('.direct.missing h2').textContent()).toBe(
        '#nowhere:nothing.example is not in this directory.',
      );
      const response = await page.goto(`${fx.base}/rooms/${encodeURIComponent('!nothing:nowhere.example')}`);
      expect(response?.status()).toBe(404);
      expect(await page.locator('h1').textContent()).toBe('Room not in this directory');
    });
  });

  it('sends a report and says what became of it', async () => {
    const room = plainRoom((r) => r.num_joined_members > 3);
    const reason = `Spam links, seen ${javaScript ? 'with' : 'without'} JavaScript`;
    await withPage(javaScript, async (page) => {
      await page.goto(`${fx.base}${roomPath(room.room_id)}`);
      await page.getByLabel('Why should it not be listed?').fill(reason);
      await Promise.all([
        page.waitForURL(/\/report$/),
        page.getByRole('button', { name: 'Send the report' }).click(),
      ]);
      expect(await page.locator('h1').textContent()).toBe('Report sent');
      await page.getByRole('link', { name: 'Back to the room' }).click();
      await page.waitForURL(`${fx.base}${roomPath(room.room_id)}`);
    });
    const reports = await fetch(`${fx.base}/api/v1/admin/reports`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    const body = (await reports.json()) as { reports: { room_id: string; reason: string }[] };
    expect(body.reports).toContainEqual(expect.objectContaining({ room_id: room.room_id, reason }));
  });

  it('lists servers to choose from and shows one server', async () => {
    await withPage(javaScript, async (page) => {
      await page.goto(`${fx.base}/servers`);
      const names = await page.locator('article.card.server .card-title a').allTextContents();
      expect(names.length).toBeGreaterThan(5);
      await page.getByLabel('Registration open').check();
      if (javaScript) await page.waitForURL(/registration=open/);
      else
        await Promise.all([
          page.waitForURL(/registration=open/),
          page.getByRole('button', { name: 'Apply', exact: true }).click(),
        ]);
      await page.waitForFunction(
        () => document.getElementById('results')?.getAttribute('aria-busy') !== 'true',
      );
      const open = await page.locator('article.card.server .registration').allTextContents();
      expect(open.length).toBeGreaterThan(0);
      for (const text of open) expect(text).toMatch(/^Registration (open|by invitation)/);

      const publisher = fx.sim.manifest.servers.find((s) => s.reachable && s.publishes && s.rooms.length > 3);
      if (!publisher) throw new Error('no publishing server');
      await page.goto(`${fx.base}/servers`);
      await page.locator(`.card-title a[href="/servers/${encodeURIComponent(publisher.name)}"]`).click();
      await page.waitForURL(`${fx.base}/servers/${encodeURIComponent(publisher.name)}`);
      expect(await page.locator('h1').textContent()).toContain(publisher.name);
      expect(await page.locator('svg.uptime rect.day').count()).toBe(30);
      expect(await page.locator('table.checks tbody tr').count()).toBeGreaterThan(0);
      expect(await page.locator('dl.facts-list').textContent()).toContain(publisher.software);
      const listed = publisher.rooms.filter((r) => !r.noindex).length;
      expect(await page.locator('#rooms-heading + .summary').textContent()).toBe(
        `${listed.toLocaleString('en')} room${listed === 1 ? '' : 's'}`,
      );
    });
  });

  it('shows the stats and the about page', async () => {
    const stats = await getJson<{
      servers: { total: number };
      rooms: { searchable: number };
      crawl: { servers_checked_last_hour: number; directories_read_last_hour: number };
    }>(`${fx.base}/api/v1/stats`);
    expect(stats.crawl.servers_checked_last_hour).toBeGreaterThan(0);
    expect(stats.crawl.directories_read_last_hour).toBeGreaterThan(0);
    const feed = await getJson<{ room_directory: { servers: string[] } }>(
      `${fx.base}/api/v1/element/config.json`,
    );
    await withPage(javaScript, async (page) => {
      await page.goto(`${fx.base}/stats`);
      const figure = (label: string) =>
        page.locator('.figure', { hasText: label }).locator('dd').textContent();
      expect(await figure('Servers known')).toBe(stats.servers.total.toLocaleString('en'));
      expect(await figure('Searchable')).toBe(stats.rooms.searchable.toLocaleString('en'));
      expect(await page.locator('figure.chart').count()).toBe(2);
      // What the crawl is doing, in words.
      expect(await page.locator('#crawl-heading + ul').textContent()).toMatch(
        /In the last hour: [\d,]+ servers? checked, [\d,]+ director(y|ies) read\./,
      );
      const biggest = await page.locator('#biggest-heading ~ ol .card-title a').first().getAttribute('href');
      expect(biggest).toBe(roomPath(fx.hostile.script));

      await page.goto(`${fx.base}/about`);
      const snippet = JSON.parse((await page.locator('pre.snippet').textContent()) ?? '{}');
      expect(snippet.room_directory.servers).toEqual(feed.room_directory.servers);
      expect(await page.getByRole('link', { name: /\/api\/v1\/element\/config\.json$/ }).count()).toBe(1);
      expect(await page.locator('#opt-out').textContent()).toBe('How a room or a server opts out');
    });
  });

  it('answers unknown pages and bad filters with a page that says so', async () => {
    await withPage(javaScript, async (page) => {
      const missing = await page.goto(`${fx.base}/no/such/page`);
      expect(missing?.status()).toBe(404);
      expect(await page.locator('h1').textContent()).toBe('Page not found');
      const bad = await page.goto(`${fx.base}/?min_members=lots`);
      expect(bad?.status()).toBe(400);
      expect(await page.locator('.problems').textContent()).toContain(
        'Members at least: must be a whole number',
      );
      // The form is still there to fix the search.
      expect(await page.getByLabel('Search rooms').count()).toBe(1);
    });
  });
});

// After both modes have sent their one report.
describe('the report limit', () => {
  it('says how long to wait when the address sent too many reports', async () => {
    const room = plainRoom();
    await withPage(false, async (page) => {
      let status = 0;
      for (let i = 0; i < REPORTS_PER_HOUR + 2 && status !== 429; i++) {
        await page.goto(`${fx.base}${roomPath(room.room_id)}`);
        await page.getByLabel('Why should it not be listed?').fill(`Report number ${i}`);
        const [response] = await Promise.all([
          page.waitForResponse((r) => r.url().endsWith('/report')),
          page.getByRole('button', { name: 'Send the report' }).click(),
        ]);
        status = response.status();
      }
      expect(status).toBe(429);
      expect(await page.locator('h1').textContent()).toBe('The report was not sent');
      expect(await page.locator('main [role="alert"]').textContent()).toMatch(
        /^Too many reports from your address in the last hour\. Try again in \d+ minutes?\.$/,
      );
    });
  });
});

describe('search as you type', () => {
  it('keeps the address in step, so back and a shared link show the same results', async () => {
    const first = plainRoom();
    const second = plainRoom((r) => r.name?.split(' ')[0] !== first.name?.split(' ')[0]);
    const [a, b] = [first.name?.split(' ')[0] ?? '', second.name?.split(' ')[0] ?? ''];
    await withPage(true, async (page, context) => {
      const hrefs = () => cards(page).then((shown) => shown.map((c) => c.href));
      await page.goto(`${fx.base}/`);
      const box = page.getByLabel('Search rooms');
      await box.fill(a);
      await page.waitForURL((url) => url.searchParams.get('q') === a);
      const forA = await hrefs();
      expect(forA).toContain(roomPath(first.room_id));
      await box.blur();
      await box.fill(b);
      await page.waitForURL((url) => url.searchParams.get('q') === b);
      expect(await hrefs()).toContain(roomPath(second.room_id));
      await page.goBack();
      await page.waitForURL((url) => url.searchParams.get('q') === a);
      await page.waitForFunction(
        (word) => (document.getElementById('q') as HTMLInputElement).value === word,
        a,
      );
      await expect.poll(hrefs, { timeout: 15_000 }).toEqual(forA);
      const shared = await context.newPage();
      await shared.goto(page.url());
      expect(await cards(shared).then((shown) => shown.map((c) => c.href))).toEqual(forA);
    });
  });
});

describe('the rooms page with the keyboard only', () => {
  it('reaches and uses the search, the filters and the results', async () => {
    const room = plainRoom();
    const word = room.name?.split(' ')[0] ?? '';
    await withPage(true, async (page) => {
      await page.goto(`${fx.base}/`);
      await page.keyboard.press('Tab');
      expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
      const tabTo = async (matches: () => boolean, most = 40) => {
        for (let i = 0; i < most; i++) {
          if (await page.evaluate(matches)) return;
          await page.keyboard.press('Tab');
        }
        throw new Error(`could not reach ${matches.toString()} with Tab`);
      };
      await tabTo(() => document.activeElement?.id === 'q');
      // Focus is visible where it is.
      expect(
        await page.evaluate(() => getComputedStyle(document.activeElement as Element).outlineStyle),
      ).not.toBe('none');
      await page.keyboard.type(word);
      await page.keyboard.press('Enter');
      await page.waitForURL((url) => url.searchParams.get('q') === word);
      await tabTo(() => document.activeElement?.tagName === 'SUMMARY');
      await page.keyboard.press('Enter');
      await tabTo(() => document.activeElement?.id === 'f-readable');
      await page.keyboard.press('Space');
      await page.waitForURL(/world_readable=true/);
      await page.keyboard.press('Shift+Tab');
      await tabTo(() => document.activeElement?.id === 'f-readable');
      await page.keyboard.press('Space');
      await page.waitForURL((url) => !url.searchParams.has('world_readable'));
      await tabTo(() => document.activeElement?.closest('#results .card-title') !== null, 80);
      const target = await page.evaluate(() => document.activeElement?.getAttribute('href'));
      await page.keyboard.press('Enter');
      await page.waitForURL(`${fx.base}${target}`);
      expect(await page.locator('h1').count()).toBe(1);
    });
  });

  it('jumps to the search box with "/"', async () => {
    await withPage(true, async (page) => {
      await page.goto(`${fx.base}/`);
      await page.keyboard.press('/');
      expect(await page.evaluate(() => document.activeElement?.id)).toBe('q');
    });
  });
});

describe('hostile names and topics', () => {
  it('render as inert text: no dialog, no script, no CSP refusal, nothing reordered', async () => {
    await withPage(true, async (page) => {
      for (const pathname of [
        '/',
        '/?q=room',
        roomPath(fx.hostile.script),
        roomPath(fx.hostile.image),
        roomPath(fx.hostile.bidi),
        roomPath(fx.hostile.long),
        '/stats',
      ]) {
        await page.goto(`${fx.base}${pathname}`);
        expect(
          await page.evaluate(() => (globalThis as { __pwned?: number }).__pwned),
          pathname,
        ).toBeUndefined();
        expect(await page.locator('img[src="x"], script:not([src]), style').count(), pathname).toBe(0);
        expect(await page.locator('a[href^="javascript:" i]').count(), pathname).toBe(0);
        const text = await page.locator('main').textContent();
        expect(text, pathname).not.toMatch(/[\u202A-\u202E\u2066-\u2069]/);
      }
      await page.goto(`${fx.base}${roomPath(fx.hostile.script)}`);
      expect(await page.locator('h1').textContent()).toContain(
        '<script>window.__pwned = 1; alert(1)</script>',
      );
      expect(await page.locator('.topic.full').textContent()).toContain(
        '<a href="javascript:alert(4)">click</a>',
      );
      expect(await page.locator('.topic.full a').getAttribute('href')).toBe('https://example.org/ok');
      expect(await page.locator('.topic.full a').getAttribute('rel')).toContain('nofollow');
      await page.goto(`${fx.base}${roomPath(fx.hostile.image)}`);
      expect(await page.locator('h1').textContent()).toContain('<img src=x onerror=');
      await page.goto(`${fx.base}${roomPath(fx.hostile.bidi)}`);
      expect(await page.locator('h1 bdi').textContent()).toBe('Bidi exe.evil room');
      await page.goto(`${fx.base}${roomPath(fx.hostile.long)}`);
      const long = (await page.locator('h1 bdi').textContent()) ?? '';
      expect(long.startsWith('Long very long name')).toBe(true);
      expect(long.length).toBeLessThanOrEqual(200);
      expect(HOSTILE.long.length).toBeGreaterThan(100_000);
    });
  });
});

/** Every kind of page, for the accessibility checks and the screenshots. */
function everyPage(): { name: string; path: string }[] {
  const room = plainRoom();
  const publisher = fx.sim.manifest.servers.find((s) => s.reachable && s.publishes && s.rooms.length > 3);
  return [
    { name: 'rooms', path: '/' },
    { name: 'rooms-search', path: `/?q=${encodeURIComponent(room.name?.split(' ')[0] ?? 'chat')}` },
    { name: 'rooms-filtered', path: '/?type=space&joinable=true&sort=complexity' },
    { name: 'room', path: roomPath(room.room_id) },
    { name: 'servers', path: '/servers' },
    { name: 'server', path: `/servers/${encodeURIComponent(publisher?.name ?? '')}` },
    { name: 'stats', path: '/stats' },
    { name: 'about', path: '/about' },
    { name: 'not-found', path: '/no/such/page' },
    { name: 'bad-filter', path: '/?min_members=lots' },
  ];
}

describe('every page', () => {
  it('has no serious or critical accessibility violation, in light and dark', async () => {
    for (const colorScheme of ['light', 'dark'] as const) {
      // axe runs as an injected script, which the pages' CSP would refuse.
      const context = await browser.newContext({
        ...contextOptions({ javaScript: true }),
        bypassCSP: true,
        colorScheme,
      });
      try {
        const page = await context.newPage();
        for (const { name, path: pathname } of everyPage()) {
          await page.goto(`${fx.base}${pathname}`);
          if (name === 'rooms') await page.locator('details.filters > summary').click();
          expect(await seriousViolations(page), `${name} (${colorScheme})`).toEqual([]);
        }
      } finally {
        await context.close();
      }
    }
  });

  it('fits a 360 px screen and is saved as screenshots at 1280 and 375 px', async () => {
    for (const width of [1280, 375, 360]) {
      const context = await browser.newContext(contextOptions({ javaScript: true, width }));
      try {
        const page = await context.newPage();
        for (const { name, path: pathname } of everyPage()) {
          await page.goto(`${fx.base}${pathname}`);
          const overflow = await page.evaluate(
            () => document.documentElement.scrollWidth - window.innerWidth,
          );
          expect(overflow, `${name} at ${width} px`).toBeLessThanOrEqual(0);
          if (width !== 360)
            await page.screenshot({ path: path.join(SCREENSHOTS, `${name}-${width}.png`), fullPage: true });
        }
      } finally {
        await context.close();
      }
    }
  });

  it('sends the security headers and no cookie', async () => {
    for (const { path: pathname } of everyPage()) {
      const response = await fetch(`${fx.base}${pathname}`);
      const csp = response.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('unsafe-inline');
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('referrer-policy')).toBeTruthy();
      expect(response.headers.get('set-cookie')).toBeNull();
    }
  });
});
