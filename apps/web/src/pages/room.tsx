import { DEFAULT_COMPLEXITY_LIMIT } from '@atlas/shared/search';
import { formatAgo, formatDate, formatDecimal, formatLimit, languageName, t } from '../i18n/index.ts';
import { elementRoomUrl, matrixToUrl, serverPath } from '../matrix-links.ts';
import type { RoomDetail, WebSettings } from '../services.ts';
import { ComplexityBadge, SpaceBadge } from '../views/badges.tsx';
import { LineChart } from '../views/charts.tsx';
import { Layout } from '../views/layout.tsx';
import { Avatar, roomTitle } from '../views/room-card.tsx';
import { RemoteText, Topic } from '../views/text.tsx';
import { ReportForm } from './report.tsx';

export interface RoomModel {
  room: RoomDetail;
  /** The limit_remote_rooms complexity to explain the room against (`?limit=`). */
  limit: number;
  settings: WebSettings;
  now: number;
}

function MembersChart(props: {
  history: RoomDetail['members_history'];
  days: number;
  title: string;
  now: number;
}) {
  const since = new Date(props.now - props.days * 86_400_000).toISOString().slice(0, 10);
  const points = props.history
    .filter((p) => p.day > since)
    .map((p) => ({ day: p.day, value: p.num_joined_members }));
  const first = points[0];
  const last = points[points.length - 1];
  if (!first || !last || points.length < 2) return null;
  return (
    <LineChart
      title={props.title}
      summary={t.room.chartSummary(first.value, last.value, points.length)}
      points={points}
    />
  );
}

function ComplexityVerdict(props: { complexity: number | null; limit: number }) {
  const limit = formatLimit(props.limit);
  if (props.complexity === null) return <p class="verdict unknown">{t.complexity.mayJoin(limit)}</p>;
  return props.complexity <= props.limit ? (
    <p class="verdict ok">{t.complexity.canJoin(limit)}</p>
  ) : (
    <p class="verdict refused">{t.complexity.cannotJoin(limit)}</p>
  );
}

function ComplexitySection(props: { room: RoomDetail; limit: number; path: string; now: number }) {
  const { room } = props;
  const when = formatDate(room.complexity_at) ?? '';
  const source =
    room.complexity === null
      ? t.complexity.unknownWhy
      : room.complexity_estimated
        ? t.complexity.estimatedFrom(when)
        : t.complexity.measured(room.complexity_server ?? '?', when);
  return (
    <section aria-labelledby="complexity-heading">
      <h2 id="complexity-heading">{t.room.complexityHeading}</h2>
      <p class="complexity-line">
        <ComplexityBadge complexity={room.complexity} estimated={room.complexity_estimated} />{' '}
        <span class="source">
          <RemoteText text={source} max={400} />
        </span>
      </p>
      <ComplexityVerdict complexity={room.complexity} limit={props.limit} />
      <p class="hint">{t.complexity.explain}</p>
      <form method="get" action={props.path} class="inline-form">
        <label for="limit">{t.complexity.checkLimit}</label>
        <input
          type="number"
          id="limit"
          name="limit"
          inputmode="decimal"
          min="0"
          max="100000"
          step="any"
          value={String(props.limit)}
        />
        <button type="submit" class="secondary">
          {t.complexity.checkButton}
        </button>
      </form>
    </section>
  );
}

export function RoomPage(props: { model: RoomModel; path: string }) {
  const { room, settings, now, limit } = props.model;
  const title = roomTitle(room);
  const language = room.language;
  const view = room.world_readable;
  return (
    <Layout title={title} section="rooms">
      <p class="breadcrumb">
        <a href="/">{t.room.back}</a>
      </p>
      <header class="room-head">
        <Avatar room={room} size="large" />
        <div>
          <h1>
            <RemoteText text={title} max={200} lang={language} />
            {room.room_type === 'm.space' ? <SpaceBadge /> : null}
          </h1>
          {room.canonical_alias ? (
            <p class="alias">
              <RemoteText text={room.canonical_alias} max={255} />
            </p>
          ) : null}
        </div>
      </header>
      <div class="actions">
        <a class="button join" href={matrixToUrl(room)} rel="noopener">
          {view ? t.room.view : t.room.join}
        </a>
        <a class="button secondary" href={elementRoomUrl(settings.elementUrl, room)} rel="noopener">
          {t.room.element}
        </a>
        {room.canonical_alias ? (
          <button
            type="button"
            class="secondary copy"
            data-copy={room.canonical_alias}
            data-copied={t.copy.done}
            data-copy-failed={t.copy.failed}
            hidden
          >
            {t.room.copyAlias}
          </button>
        ) : null}
      </div>
      <Topic topic={room.topic} max={2000} lang={language} class="topic full" multiline />

      <section aria-labelledby="members-heading">
        <h2 id="members-heading">{t.room.membersHeading}</h2>
        <p class="big-number">{t.room.membersNow(room.num_joined_members)}</p>
        <p>{t.room.growth(room.growth_7d, room.growth_30d)}</p>
        {room.members_history.length >= 2 ? (
          <div class="charts">
            <MembersChart history={room.members_history} days={30} title={t.room.chart30} now={now} />
            <MembersChart history={room.members_history} days={90} title={t.room.chart90} now={now} />
          </div>
        ) : (
          <p class="hint">{t.room.noHistory}</p>
        )}
      </section>

      <ComplexitySection room={room} limit={limit} path={props.path} now={now} />

      <section aria-labelledby="servers-heading">
        <h2 id="servers-heading">{t.room.serversHeading}</h2>
        <p>
          {room.servers_in_room === null
            ? t.room.serversInRoomUnknown
            : t.room.serversInRoom(room.servers_in_room)}
        </p>
        <h3>{t.room.listingHeading}</h3>
        <ul class="listings">
          {room.listings.map((listing) => (
            <li class={listing.active ? 'active' : 'gone'}>
              <a href={serverPath(listing.server_name)}>
                <RemoteText text={listing.server_name} max={255} />
              </a>{' '}
              <span class="hint">
                {listing.active ? t.room.listingActive : t.room.listingGone},{' '}
                {t.room.listedSince(formatDate(listing.first_seen_at) ?? '')}
              </span>
            </li>
          ))}
        </ul>
      </section>

      <section aria-labelledby="facts-heading">
        <h2 id="facts-heading">{t.room.factsHeading}</h2>
        <dl class="facts-list">
          <dt>{t.room.roomId}</dt>
          <dd>
            <code>
              <RemoteText text={room.room_id} max={255} />
            </code>
          </dd>
          <dt>{t.room.type}</dt>
          <dd>{room.room_type === 'm.space' ? t.room.typeSpace : t.room.typeRoom}</dd>
          <dt>{t.room.joinRule}</dt>
          <dd>{t.joinRules[room.join_rule] ?? room.join_rule}</dd>
          <dt>{t.room.guestAccess}</dt>
          <dd>{room.guest_can_join ? t.room.guestsYes : t.room.guestsNo}</dd>
          <dt>{t.room.readable}</dt>
          <dd>{room.world_readable ? t.room.readableYes : t.room.readableNo}</dd>
          <dt>{t.room.language}</dt>
          <dd>{language ? languageName(language) : t.room.languageUnknown}</dd>
          <dt>{t.room.firstSeen}</dt>
          <dd>{formatDate(room.first_seen_at)}</dd>
          <dt>{t.room.lastSeen}</dt>
          <dd>{room.stale ? t.card.stale : (formatAgo(room.last_seen_at, now) ?? '')}</dd>
        </dl>
      </section>

      <ReportForm action={`${props.path}/report`} heading={t.report.heading} />
    </Layout>
  );
}

/** `?limit=` for the complexity verdict: a sane positive number, else Synapse's default. */
export function parseLimit(value: string | undefined): number {
  const limit = value === undefined ? Number.NaN : Number(value);
  return Number.isFinite(limit) && limit > 0 && limit <= 100_000 ? limit : DEFAULT_COMPLEXITY_LIMIT;
}
