import { SERVER_SORTS } from '@atlas/shared/api';
import { formatAgo, formatInteger, formatShare, languageName, t } from '../i18n/index.ts';
import { serverPath } from '../matrix-links.ts';
import type { ApiServer, DirectoryStats, ServerList } from '../services.ts';
import { StatusBadge } from '../views/badges.tsx';
import { Checkbox, choices, Problems, Select } from '../views/form.tsx';
import { Layout } from '../views/layout.tsx';
import { Pager } from '../views/pager.tsx';
import { RemoteText } from '../views/text.tsx';

export const SERVER_FILTER_KEYS = ['registration', 'software', 'min_uptime', 'language'] as const;
const UPTIME_CHOICES = ['0.9', '0.95', '0.99'];

export interface ServersModel {
  query: Record<string, string>;
  problems: string[];
  results: ServerList | null;
  stats: DirectoryStats | null;
  now: number;
}

/** Open registration that needs a registration token is by invitation, not open to newcomers. */
export function registrationKind(server: Pick<ApiServer, 'registration' | 'registration_stages'>): string {
  if (server.registration === 'open' && server.registration_stages.includes('m.login.registration_token')) {
    return 'invite';
  }
  return server.registration;
}

/** "Registration open with email, captcha" */
export function registrationText(server: Pick<ApiServer, 'registration' | 'registration_stages'>): string {
  const kind = registrationKind(server);
  const base = t.servers.registration[kind] ?? server.registration;
  if (kind !== 'open') return base;
  const stages = server.registration_stages
    .filter((stage) => stage !== 'm.login.dummy')
    .map((stage) => t.servers.stages[stage] ?? stage);
  return stages.length > 0 ? `${base} ${t.servers.via([...new Set(stages)].join(', '))}` : base;
}

export function Contacts(props: { contacts: ApiServer['contacts'] }) {
  if (props.contacts.length === 0) return null;
  return (
    <ul class="contacts">
      {props.contacts.slice(0, 6).map((contact) => (
        <li>
          <span class="role">{t.servers.role[contact.role] ?? contact.role}:</span>{' '}
          {contact.matrix_id ? (
            <a href={`https://matrix.to/#/${encodeURIComponent(contact.matrix_id)}`} rel="nofollow noopener">
              <RemoteText text={contact.matrix_id} max={255} />
            </a>
          ) : null}
          {contact.matrix_id && contact.email_address ? ' · ' : null}
          {contact.email_address ? <RemoteText text={contact.email_address} max={255} /> : null}
        </li>
      ))}
    </ul>
  );
}

export function ServerCard(props: { server: ApiServer; id: string; now: number }) {
  const { server, now } = props;
  const checked = formatAgo(server.last_probe_at, now);
  return (
    <article class="card server" aria-labelledby={props.id}>
      <div class="card-body">
        <h2 class="card-title" id={props.id}>
          <a href={serverPath(server.name)}>
            <RemoteText text={server.name} max={255} />
          </a>{' '}
          <StatusBadge status={server.status} />
        </h2>
        <p class={`registration registration-${registrationKind(server)}`}>{registrationText(server)}</p>
        <ul class="facts">
          {server.software_name ? (
            <li>
              <RemoteText text={`${server.software_name} ${server.software_version ?? ''}`.trim()} max={80} />
            </li>
          ) : null}
          <li>
            {server.uptime_30d === null ? t.servers.uptimeUnknown : t.servers.uptime(server.uptime_30d)}
          </li>
          {server.latency_ms !== null ? <li>{t.servers.latency(server.latency_ms)}</li> : null}
          <li>
            {server.publishes === false
              ? t.servers.noDirectory
              : server.members !== null
                ? t.servers.roomsMembers(server.room_count ?? 0, server.members)
                : t.servers.rooms(server.room_count ?? 0)}
          </li>
          <li>{checked ? t.servers.checked(checked) : t.servers.notChecked}</li>
        </ul>
        <Contacts contacts={server.contacts} />
      </div>
    </article>
  );
}

export function ServersPage(props: { model: ServersModel }) {
  const { query, problems, results, stats, now } = props.model;
  const software = stats?.software ?? [];
  const languages = stats?.languages ?? [];
  const filtered = SERVER_FILTER_KEYS.some((key) => query[key] !== undefined);
  return (
    <Layout title={t.servers.title} section="servers">
      <h1>{t.servers.heading}</h1>
      <p class="lead">{t.servers.intro}</p>
      <form
        class="search servers-filters"
        method="get"
        action="/servers"
        id="servers-form"
        data-live="servers"
      >
        <div class="filter-grid">
          <Checkbox
            id="s-open"
            name="registration"
            label={t.servers.registrationOpen}
            value="open"
            checked={query.registration === 'open'}
          />
          <Select
            id="s-software"
            name="software"
            label={t.servers.software}
            value={query.software}
            options={choices(
              t.servers.anySoftware,
              software
                .filter((s) => s.name !== 'unknown')
                .map((s) => ({ value: s.name, label: `${s.name} (${formatInteger(s.servers)})` })),
              query.software,
            )}
          />
          <Select
            id="s-uptime"
            name="min_uptime"
            label={t.servers.minUptime}
            value={query.min_uptime}
            options={[
              { value: '', label: t.servers.anyUptime },
              ...UPTIME_CHOICES.map((value) => ({
                value,
                label: t.servers.uptimeAtLeast(formatShare(Number(value))),
              })),
            ]}
          />
          <Select
            id="s-language"
            name="language"
            label={t.servers.language}
            value={query.language}
            options={choices(
              t.rooms.anyLanguage,
              languages.map((l) => ({ value: l.code, label: languageName(l.code) })),
              query.language,
              languageName,
            )}
          />
          <Select
            id="s-sort"
            name="sort"
            label={t.servers.sort}
            value={query.sort ?? 'recommended'}
            options={SERVER_SORTS.map((value) => ({ value, label: t.servers.sorts[value] ?? value }))}
          />
        </div>
        <div class="filter-actions">
          <button type="submit">{t.servers.apply}</button>
          <a href="/servers">{t.servers.clear}</a>
        </div>
      </form>
      <div id="results" aria-live="polite">
        {problems.length > 0 ? <Problems problems={problems} startAgain="/servers" /> : null}
        {results ? (
          results.servers.length > 0 ? (
            <>
              <ol class="cards">
                {results.servers.map((server, i) => (
                  <li>
                    <ServerCard server={server} id={`server-${i}`} now={now} />
                  </li>
                ))}
              </ol>
              <Pager path="/servers" query={query} nextCursor={results.next_cursor} />
            </>
          ) : (
            <div class="empty">
              <p>{filtered ? t.servers.none : t.servers.empty}</p>
              {filtered ? null : <p class="hint">{t.servers.emptyHint}</p>}
            </div>
          )
        ) : null}
      </div>
    </Layout>
  );
}
