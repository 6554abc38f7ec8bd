import { t } from '../i18n/index.ts';
import { pagerLinks } from '../urls.ts';

export function Pager(props: { path: string; query: Record<string, string>; nextCursor: string | null }) {
  const links = pagerLinks(props.path, props.query, props.nextCursor);
  if (!links.previous && !links.next) return null;
  return (
    <nav class="pager" aria-label={t.pager.label}>
      {links.first ? (
        <a href={links.first} class="first">
          {t.pager.first}
        </a>
      ) : null}
      {links.previous ? (
        <a href={links.previous} rel="prev" class="previous">
          {t.pager.previous}
        </a>
      ) : null}
      {links.page !== null ? <span class="page">{t.rooms.page(links.page)}</span> : null}
      {links.next ? (
        <a href={links.next} rel="next" class="next">
          {t.pager.next}
        </a>
      ) : null}
    </nav>
  );
}
