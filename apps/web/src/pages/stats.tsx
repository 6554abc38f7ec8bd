import type { ApiRoom } from '@atlas/shared/api';
import { formatAgo, formatInteger, formatShare, languageName, t } from '../i18n/index.ts';
import type { DirectoryStats } from '../services.ts';
import { BarList, ColumnChart } from '../views/charts.tsx';
import { Layout } from '../views/layout.tsx';
import { RoomCards } from '../views/room-card.tsx';

export interface StatsModel {
  stats: DirectoryStats;
  biggest: ApiRoom[];
  rising: ApiRoom[];
  now: number;
}

function Figure(props: { label: string; value: number }) {
  return (
    <div class="figure">
      <dt>{props.label}</dt>
      <dd>{formatInteger(props.value)}</dd>
    </div>
  );
}

/** What the crawl is doing now: servers waiting for a first check, reads of the last hour, the index. */
function CrawlStatus(props: { stats: DirectoryStats; now: number }) {
  const { servers, crawl } = props.stats;
  const lastRead = formatAgo(crawl.last_read_at, props.now);
  return (
    <section class="notice" aria-labelledby="crawl-heading">
      <h2 id="crawl-heading">{t.stats.crawlHeading}</h2>
      <ul>
        <li>{t.stats.crawlNew(servers.new)}</li>
        <li>
          {t.stats.crawlHour(crawl.servers_checked_last_hour, crawl.directories_read_last_hour)}
          {lastRead ? ` ${t.stats.crawlLastRead(lastRead)}` : null}
        </li>
        <li>{t.stats.crawlIndex(crawl.rooms_to_index)}</li>
      </ul>
    </section>
  );
}

export function StatsPage(props: { model: StatsModel }) {
  const { stats, biggest, rising, now } = props.model;
  const roomsPerDay = stats.growth.map((g) => ({ day: g.day, value: g.rooms_first_seen }));
  const serversPerDay = stats.growth.map((g) => ({ day: g.day, value: g.servers_discovered }));
  const sum = (values: { value: number }[]) => values.reduce((total, v) => total + v.value, 0);
  return (
    <Layout title={t.stats.title} section="stats">
      <h1>{t.stats.heading}</h1>
      <p class="hint">{t.stats.generated(formatAgo(stats.generated_at, now) ?? '')}</p>
      <CrawlStatus stats={stats} now={now} />
      <dl class="figures">
        <Figure label={t.stats.serversKnown} value={stats.servers.total} />
        <Figure label={t.stats.serversOnline} value={stats.servers.online} />
        <Figure label={t.stats.serversPublishing} value={stats.servers.publishing} />
        <Figure label={t.stats.serversOpen} value={stats.servers.open_registration} />
        <Figure label={t.stats.roomsKnown} value={stats.rooms.known} />
        <Figure label={t.stats.roomsSearchable} value={stats.rooms.searchable} />
        <Figure label={t.stats.spaces} value={stats.rooms.spaces} />
        <Figure label={t.stats.members} value={stats.rooms.members} />
      </dl>
      <div class="two-columns">
        <BarList
          title={t.stats.byStatus}
          bars={(['online', 'offline', 'new', 'invalid'] as const).map((status) => ({
            label: t.stats.statusNames[status] ?? status,
            value: stats.servers[status],
          }))}
        />
        <BarList
          title={t.stats.bySoftware}
          bars={stats.software.map((s) => ({
            label: s.name,
            value: s.servers,
            note: `(${formatShare(s.share)})`,
          }))}
        />
      </div>
      <ColumnChart
        title={t.stats.roomsPerDay}
        summary={t.stats.chartTotal(sum(roomsPerDay))}
        columns={roomsPerDay}
      />
      <ColumnChart
        title={t.stats.serversPerDay}
        summary={t.stats.chartTotal(sum(serversPerDay))}
        columns={serversPerDay}
      />
      {stats.languages.length > 0 ? (
        <BarList
          title={t.stats.languages}
          bars={stats.languages.slice(0, 15).map((l) => ({ label: languageName(l.code), value: l.rooms }))}
        />
      ) : null}
      <section aria-labelledby="biggest-heading">
        <h2 id="biggest-heading">{t.stats.biggest}</h2>
        {biggest.length > 0 ? (
          <RoomCards rooms={biggest} prefix="biggest" now={now} heading="h3" />
        ) : (
          <p class="hint">{t.stats.noRooms}</p>
        )}
      </section>
      <section aria-labelledby="rising-heading">
        <h2 id="rising-heading">{t.stats.rising}</h2>
        {rising.length > 0 ? (
          <RoomCards rooms={rising} prefix="rising" now={now} heading="h3" />
        ) : (
          <p class="hint">{t.stats.noneRising}</p>
        )}
      </section>
    </Layout>
  );
}
