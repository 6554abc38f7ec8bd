import type { ApiRoom } from '@atlas/shared/api';
import { ROOM_SORTS } from '@atlas/shared/search';
import { formatInteger, languageName, t } from '../i18n/index.ts';
import { matrixToUrl } from '../matrix-links.ts';
import type { DirectoryStats, RoomList } from '../services.ts';
import { Checkbox, choices, NumberField, Problems, Select } from '../views/form.tsx';
import { Layout } from '../views/layout.tsx';
import { Pager } from '../views/pager.tsx';
import { RoomCard, RoomCards } from '../views/room-card.tsx';
import { RemoteText } from '../views/text.tsx';

/** The filters of the rooms page, as the form names them (the JSON API's names, plus the custom limit). */
export const ROOM_FILTER_KEYS = [
  'language',
  'type',
  'join_rule',
  'min_members',
  'max_members',
  'world_readable',
  'joinable',
  'joinable_limit',
] as const;

export const JOIN_RULES = ['public', 'knock', 'knock_restricted', 'restricted', 'invite'] as const;

export interface RoomsModel {
  /** The query string's non-empty values. */
  query: Record<string, string>;
  problems: string[];
  results: RoomList | null;
  /** The room a `#alias:server`, room id or matrix.to link in the box names, when it does. */
  reference: { text: string; room: ApiRoom | null } | null;
  stats: DirectoryStats | null;
  now: number;
}

function hasFilters(query: Record<string, string>): boolean {
  return ROOM_FILTER_KEYS.some((key) => query[key] !== undefined);
}

export function SearchForm(props: { query: Record<string, string>; stats: DirectoryStats | null }) {
  const { query, stats } = props;
  const languages = stats?.languages ?? [];
  const selectedLanguage = query.language;
  const languageOptions = choices(
    t.rooms.anyLanguage,
    languages.map((l) => ({ value: l.code, label: `${languageName(l.code)} (${formatInteger(l.rooms)})` })),
    selectedLanguage,
    languageName,
  );
  const joinable = query.joinable === undefined ? '' : query.joinable === 'true' ? 'true' : 'custom';
  const sort = query.sort ?? (query.q ? 'relevance' : 'members');
  return (
    <search>
      <form class="search" method="get" action="/" id="search-form" data-live="rooms">
        <div class="search-row">
          <label for="q" class="search-label">
            {t.rooms.searchLabel}
          </label>
          <input
            type="search"
            id="q"
            name="q"
            value={query.q ?? ''}
            placeholder={t.rooms.searchPlaceholder}
            maxlength={256}
            autocomplete="off"
            spellcheck={false}
          />
          <button type="submit">{t.rooms.searchButton}</button>
        </div>
        <details class="filters" open={hasFilters(query)}>
          <summary>{t.rooms.filters}</summary>
          <div class="filter-grid">
            <Select
              id="f-language"
              name="language"
              label={t.rooms.language}
              value={selectedLanguage}
              options={languageOptions}
            />
            <Select
              id="f-type"
              name="type"
              label={t.rooms.kind}
              value={query.type}
              options={[
                { value: '', label: t.rooms.kindAny },
                { value: 'room', label: t.rooms.kindRoom },
                { value: 'space', label: t.rooms.kindSpace },
              ]}
            />
            <Select
              id="f-join-rule"
              name="join_rule"
              label={t.rooms.joinRule}
              value={query.join_rule}
              options={[
                { value: '', label: t.rooms.joinRuleAny },
                ...JOIN_RULES.map((rule) => ({ value: rule, label: t.joinRules[rule] ?? rule })),
              ]}
            />
            <NumberField
              id="f-min"
              name="min_members"
              label={t.rooms.minMembers}
              value={query.min_members}
              min={0}
            />
            <NumberField
              id="f-max"
              name="max_members"
              label={t.rooms.maxMembers}
              value={query.max_members}
              min={0}
            />
            <Checkbox
              id="f-readable"
              name="world_readable"
              label={t.rooms.worldReadable}
              checked={query.world_readable === 'true'}
            />
            <fieldset class="joinable">
              <legend>{t.rooms.joinable}</legend>
              <Select
                id="f-joinable"
                name="joinable"
                label={t.rooms.joinableChoice}
                value={joinable}
                describedBy="joinable-hint"
                options={[
                  { value: '', label: t.rooms.joinableAny },
                  { value: 'true', label: t.rooms.joinableDefault },
                  { value: 'custom', label: t.rooms.joinableCustom },
                ]}
              />
              <NumberField
                id="f-joinable-limit"
                name="joinable_limit"
                label={t.rooms.joinableLimit}
                value={query.joinable_limit ?? (joinable === 'custom' ? query.joinable : undefined)}
                min={0}
                step="any"
                describedBy="joinable-hint"
              />
              <p class="hint" id="joinable-hint">
                {t.rooms.joinableHint}
              </p>
            </fieldset>
          </div>
          <div class="filter-actions">
            <button type="submit">{t.rooms.apply}</button>
            <a href="/">{t.rooms.clear}</a>
          </div>
        </details>
        <div class="sort-row">
          <Select
            id="f-sort"
            name="sort"
            label={t.rooms.sort}
            value={sort}
            options={ROOM_SORTS.map((value) => ({ value, label: t.rooms.sorts[value] ?? value }))}
          />
          <noscript>
            <button type="submit" class="secondary">
              {t.rooms.applySort}
            </button>
          </noscript>
        </div>
      </form>
    </search>
  );
}

function DirectHit(props: { reference: NonNullable<RoomsModel['reference']>; now: number }) {
  const { reference } = props;
  if (reference.room) {
    return (
      <section class="direct" aria-labelledby="direct-heading">
        <h2 id="direct-heading" class="section-label">
          {t.rooms.directHit}
        </h2>
        <RoomCard room={reference.room} id="direct-room" now={props.now} heading="h3" />
      </section>
    );
  }
  const link = matrixToUrl({ room_id: reference.text, canonical_alias: null, servers: [] });
  return (
    <section class="direct missing" aria-labelledby="direct-heading">
      <h2 id="direct-heading">
        <RemoteText text={t.rooms.notInDirectory(reference.text)} max={300} />
      </h2>
      <p>
        {t.rooms.notInDirectoryHint}{' '}
        <a href={link} rel="noopener">
          {t.rooms.openAnyway}
        </a>
      </p>
    </section>
  );
}

/** The part of the page that search-as-you-type replaces. */
export function RoomResults(props: { model: RoomsModel }) {
  const { query, problems, results, reference, stats, now } = props.model;
  const filtered = query.q !== undefined || hasFilters(query);
  return (
    <div id="results" aria-live="polite">
      {problems.length > 0 ? <Problems problems={problems} startAgain="/" /> : null}
      {reference ? <DirectHit reference={reference} now={now} /> : null}
      {results ? (
        <section aria-labelledby="results-summary">
          <p class="summary" id="results-summary">
            {query.q ? (
              <RemoteText
                text={t.rooms.summaryFor(t.rooms.summary(results.total, results.total_exact), query.q)}
                max={400}
              />
            ) : (
              t.rooms.summary(results.total, results.total_exact)
            )}
          </p>
          {results.rooms.length > 0 ? (
            <RoomCards rooms={results.rooms} prefix="room" now={now} />
          ) : filtered ? (
            <div class="empty">
              <p>{t.rooms.none}</p>
              <p class="hint">{t.rooms.noneHint}</p>
            </div>
          ) : (
            <div class="empty">
              <p>{t.rooms.emptyDirectory}</p>
              <p class="hint">{t.rooms.emptyDirectoryHint}</p>
              {stats ? (
                <p class="hint">
                  {t.stats.serversKnown}: {formatInteger(stats.servers.total)} · {t.stats.roomsKnown}:{' '}
                  {formatInteger(stats.rooms.known)} · {t.stats.roomsSearchable}:{' '}
                  {formatInteger(stats.rooms.searchable)}
                </p>
              ) : null}
            </div>
          )}
          <Pager path="/" query={query} nextCursor={results.next_cursor} />
        </section>
      ) : null}
      <p class="note">
        {t.rooms.hiddenNote} <a href="/about#opt-out">{t.rooms.hiddenLink}</a>
      </p>
    </div>
  );
}

export function RoomsPage(props: { model: RoomsModel }) {
  return (
    <Layout title={t.rooms.title} section="rooms">
      <h1>{t.rooms.heading}</h1>
      <p class="lead">{t.rooms.intro}</p>
      <SearchForm query={props.model.query} stats={props.model.stats} />
      <RoomResults model={props.model} />
    </Layout>
  );
}
