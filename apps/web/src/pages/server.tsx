import { cleanHttpUrl } from '@atlas/shared/text';
import { formatAgo, formatDate, formatDateTime, formatDay, formatShare, t } from '../i18n/index.ts';
import type { RoomList, ServerDetail } from '../services.ts';
import { StatusBadge } from '../views/badges.tsx';
import { UptimeStrip } from '../views/charts.tsx';
import { Layout } from '../views/layout.tsx';
import { Pager } from '../views/pager.tsx';
import { RoomCards } from '../views/room-card.tsx';
import { RemoteText } from '../views/text.tsx';
import { ReportForm } from './report.tsx';
import { Contacts, registrationKind, registrationText } from './servers.tsx';

export interface ServerModel {
  server: ServerDetail;
  rooms: RoomList | null;
  query: Record<string, string>;
  now: number;
}

/** A probe's error in words; the raw text follows for whoever needs the detail. */
export function checkErrorInWords(error: string): string {
  for (const [pattern, words] of t.checkErrors) if (pattern.test(error)) return words;
  return error;
}

function share(value: number | null): string {
  return value === null ? t.server.notMeasured : formatShare(value);
}

function ExternalLink(props: { url: string | null; label: string }) {
  const href = props.url ? cleanHttpUrl(props.url) : null;
  if (!href) return null;
  return (
    <p>
      {props.label}:{' '}
      <a href={href} rel="nofollow noopener ugc">
        <RemoteText text={href} max={200} />
      </a>
    </p>
  );
}

export function ServerPage(props: { model: ServerModel; path: string }) {
  const { server, rooms, query, now } = props.model;
  const crawl = server.last_crawl;
  return (
    <Layout title={server.name} section="servers">
      <p class="breadcrumb">
        <a href="/servers">{t.server.back}</a>
      </p>
      <h1>
        <RemoteText text={server.name} max={255} /> <StatusBadge status={server.status} />
      </h1>

      {server.room_cap_reached ? <p class="notice">{t.server.roomCap}</p> : null}

      <section aria-labelledby="signup-heading">
        <h2 id="signup-heading">{t.server.signUpHeading}</h2>
        <p class={`registration registration-${registrationKind(server)}`}>{registrationText(server)}</p>
        <ExternalLink url={server.client_base_url} label={t.server.clientUrl} />
        <ExternalLink url={server.support_page} label={t.server.supportPage} />
        {server.contacts.length > 0 ? (
          <>
            <h3>{t.servers.contacts}</h3>
            <Contacts contacts={server.contacts} />
          </>
        ) : null}
      </section>

      <section aria-labelledby="uptime-heading">
        <h2 id="uptime-heading">{t.server.uptimeHeading}</h2>
        <UptimeStrip
          title={t.server.uptimeStrip}
          days={server.uptime_days.map((day) => ({
            day: day.day,
            share: day.share,
            label: t.server.uptimeDay(
              formatDay(day.day),
              day.share === null ? null : formatShare(day.share),
              day.checks,
            ),
          }))}
        />
        <p class="hint">{t.server.uptimeStrip}</p>
        <p>
          {t.server.uptimeSummary(
            share(server.uptime.last_day),
            share(server.uptime.last_7_days),
            share(server.uptime.last_30_days),
          )}
        </p>
      </section>

      <section aria-labelledby="facts-heading">
        <h2 id="facts-heading">{t.server.factsHeading}</h2>
        <dl class="facts-list">
          <dt>{t.server.software}</dt>
          <dd>
            {server.software_name ? (
              <RemoteText
                text={`${server.software_name} ${server.software_version ?? ''}`.trim()}
                max={120}
              />
            ) : (
              t.server.unknownSoftware
            )}
          </dd>
          <dt>{t.server.latency}</dt>
          <dd>{server.latency_ms === null ? t.server.notMeasured : t.servers.latency(server.latency_ms)}</dd>
          <dt>{t.server.foundViaLabel}</dt>
          <dd>
            {t.server.foundVia[server.found_via] ?? server.found_via}
            {server.found_from ? (
              <>
                {' '}
                <RemoteText text={t.server.foundFrom(server.found_from)} max={300} />
              </>
            ) : null}
          </dd>
          <dt>{t.server.resolution}</dt>
          <dd>
            {server.resolution
              ? (t.server.resolutionSteps[server.resolution] ?? server.resolution)
              : t.server.notMeasured}
            {server.delegated_to ? (
              <>
                {', '}
                <RemoteText text={t.server.delegatedTo(server.delegated_to)} max={300} />
              </>
            ) : null}
          </dd>
          <dt>{t.server.discovered}</dt>
          <dd>{formatDate(server.discovered_at)}</dd>
          <dt>{t.server.lastChecked}</dt>
          <dd>{formatAgo(server.last_probe_at, now) ?? t.servers.notChecked}</dd>
          <dt>{t.server.lastCrawl}</dt>
          <dd>
            {crawl
              ? t.server.crawlSummary(
                  t.server.outcomes[crawl.outcome ?? 'running'] ?? crawl.outcome ?? '',
                  crawl.rooms,
                  formatAgo(crawl.finished_at ?? crawl.started_at, now) ?? '',
                )
              : t.server.neverCrawled}
          </dd>
          {crawl?.stop_reason ? (
            <>
              <dt>{t.server.stopReason}</dt>
              <dd>
                {t.server.stopReasons[crawl.stop_reason] ?? crawl.stop_reason}
                {crawl.error ? (
                  <>
                    {': '}
                    <RemoteText text={checkErrorInWords(crawl.error)} max={300} />
                  </>
                ) : null}
              </dd>
            </>
          ) : null}
        </dl>
      </section>

      <section aria-labelledby="checks-heading">
        <h2 id="checks-heading">{t.server.checksHeading}</h2>
        {server.checks.length === 0 ? (
          <p class="hint">{t.server.noChecks}</p>
        ) : (
          <section class="table-wrap" tabindex={0} aria-labelledby="checks-heading">
            <table class="checks">
              <caption>{t.server.checksCaption}</caption>
              <thead>
                <tr>
                  <th scope="col">{t.server.checkWhen}</th>
                  <th scope="col">{t.server.checkResult}</th>
                  <th scope="col">{t.server.checkLatency}</th>
                  <th scope="col">{t.server.checkVersion}</th>
                </tr>
              </thead>
              <tbody>
                {server.checks.slice(0, 20).map((check) => (
                  <tr>
                    <td>{formatDateTime(check.checked_at)}</td>
                    <td class={check.reachable ? 'ok' : 'bad'}>
                      {check.reachable ? t.server.answered : t.server.noAnswer}
                      {check.error ? (
                        <span class="error">
                          {' — '}
                          <RemoteText text={checkErrorInWords(check.error)} max={200} />
                        </span>
                      ) : null}
                    </td>
                    <td>{check.latency_ms === null ? '' : t.servers.latency(check.latency_ms)}</td>
                    <td>
                      <RemoteText text={check.software_version} max={60} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
        )}
      </section>

      <section aria-labelledby="rooms-heading">
        <h2 id="rooms-heading">{t.server.roomsHeading}</h2>
        {rooms && rooms.rooms.length > 0 ? (
          <>
            <p class="summary">{t.rooms.summary(rooms.total, rooms.total_exact)}</p>
            <RoomCards rooms={rooms.rooms} prefix="server-room" now={now} heading="h3" />
            <Pager path={props.path} query={query} nextCursor={rooms.next_cursor} />
          </>
        ) : (
          <p class="hint">{t.server.noRooms}</p>
        )}
      </section>

      <ReportForm action={`${props.path}/report`} heading={t.report.serverHeading} />
    </Layout>
  );
}
