import type { Child } from 'hono/jsx';
import { assetUrl } from '../assets.ts';
import { t } from '../i18n/index.ts';

export type Section = 'rooms' | 'servers' | 'stats' | 'about' | undefined;

const NAV: { section: Exclude<Section, undefined>; href: string; label: string }[] = [
  { section: 'rooms', href: '/', label: t.nav.rooms },
  { section: 'servers', href: '/servers', label: t.nav.servers },
  { section: 'stats', href: '/stats', label: t.nav.stats },
  { section: 'about', href: '/about', label: t.nav.about },
];

/** The page around every view: one stylesheet, one deferred script, nothing from elsewhere. */
export function Layout(props: { title: string; section: Section; description?: string; children: Child }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="light dark" />
        <title>{t.pageTitle(props.title)}</title>
        <meta name="description" content={props.description ?? t.tagline} />
        <link rel="stylesheet" href={assetUrl('atlas.css')} />
        <link rel="icon" href={assetUrl('favicon.svg')} type="image/svg+xml" />
        <script src={assetUrl('atlas.js')} defer></script>
      </head>
      <body>
        <a class="skip" href="#main">
          {t.skipToContent}
        </a>
        <header class="site">
          <nav aria-label={t.nav.label}>
            <a class="brand" href="/">
              <svg class="logo" viewBox="0 0 24 24" width="24" height="24" aria-hidden="true">
                <circle cx="12" cy="12" r="10" fill="none" stroke="currentColor" stroke-width="2" />
                <path
                  d="M2 12h20M12 2c3 3 4.5 6.5 4.5 10S15 19 12 22c-3-3-4.5-6.5-4.5-10S9 5 12 2z"
                  fill="none"
                  stroke="currentColor"
                  stroke-width="1.5"
                />
              </svg>
              {t.siteName}
            </a>
            <ul>
              {NAV.map((item) => (
                <li>
                  <a href={item.href} aria-current={item.section === props.section ? 'page' : undefined}>
                    {item.label}
                  </a>
                </li>
              ))}
            </ul>
          </nav>
        </header>
        <main id="main" tabindex={-1}>
          {props.children}
        </main>
        <footer class="site">
          <p>{t.footer.text}</p>
          <p>
            <a href="/about">{t.footer.about}</a> · <a href="/api/v1/docs">{t.footer.api}</a> ·{' '}
            <a href="/api/v1/element/config.json">{t.footer.feed}</a>
          </p>
        </footer>
      </body>
    </html>
  );
}
