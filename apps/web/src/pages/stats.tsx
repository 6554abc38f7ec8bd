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

/** What the crawl is still doing: servers found but not checked yet. */
function CrawlStatus(props: { stats: DirectoryStats }) {
  const waiting = props.stats.servers.new;
  return (
    <p class="notice" role="status">
      {waiting > 0 ? t.stats.crawling(waiting) : t.stats.settled}
    </p>
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
      <CrawlStatus stats={stats} />
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
