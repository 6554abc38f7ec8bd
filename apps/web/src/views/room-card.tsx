import type { ApiRoom } from '@atlas/shared/api';
import { formatAgo, languageName, t } from '../i18n/index.ts';
import { matrixToUrl, roomPath } from '../matrix-links.ts';
import { avatarLetter, avatarTone, displayText } from '../text.ts';
import { ComplexityBadge, JoinRuleBadge, SpaceBadge } from './badges.tsx';
import { RemoteText, Topic } from './text.tsx';

/** Name, else alias, else "Unnamed room": what a person calls the room. */
export function roomTitle(room: Pick<ApiRoom, 'name' | 'canonical_alias'>): string {
  return displayText(room.name, 200) ?? displayText(room.canonical_alias, 200) ?? t.card.unnamed;
}

/**
 * The room's face: its avatar when Atlas serves one, over the letter (which shows until the image
 * loads, and stays when it cannot). The image is Atlas's own re-encoded thumbnail, never a remote
 * URL, so the pages' `img-src 'self'` holds.
 */
export function Avatar(props: {
  room: Pick<ApiRoom, 'room_id' | 'name' | 'canonical_alias' | 'avatar_thumbnail'>;
  size?: 'large';
}) {
  const { room } = props;
  const large = props.size === 'large';
  const image = room.avatar_thumbnail;
  return (
    <span class={`avatar tone-${avatarTone(room.room_id)}${large ? ' large' : ''}`} aria-hidden="true">
      {avatarLetter(room.name, room.canonical_alias?.slice(1))}
      {image ? (
        <img
          src={large ? `${image}?size=large` : image}
          alt=""
          width={large ? 72 : 48}
          height={large ? 72 : 48}
          loading="lazy"
          decoding="async"
        />
      ) : null}
    </span>
  );
}

/** "Join" for rooms that need joining, "View" for world-readable ones, as Matrix clients say it. */
export function JoinLink(props: { room: ApiRoom; class?: string }) {
  const { room } = props;
  const title = roomTitle(room);
  const view = room.world_readable;
  return (
    <a
      class={props.class ?? 'button join'}
      href={matrixToUrl(room)}
      rel="noopener"
      aria-label={view ? t.card.viewLabel(title) : t.card.joinLabel(title)}
    >
      {view ? t.card.view : t.card.join}
    </a>
  );
}

/** One room in a list of results: the same card on every page that lists rooms. */
export function RoomCard(props: { room: ApiRoom; id: string; now: number; heading?: 'h2' | 'h3' }) {
  const { room, now } = props;
  const Heading = props.heading ?? 'h2';
  const language = room.language;
  const seen = formatAgo(room.last_seen_at, now);
  return (
    <article class="card room" aria-labelledby={props.id}>
      <Avatar room={room} />
      <div class="card-body">
        <Heading class="card-title" id={props.id}>
          <a href={roomPath(room.room_id)}>
            <RemoteText text={roomTitle(room)} max={200} lang={language} />
          </a>
          {room.room_type === 'm.space' ? <SpaceBadge /> : null}
        </Heading>
        {room.canonical_alias && room.name ? (
          <p class="alias">
            <RemoteText text={room.canonical_alias} max={255} />
          </p>
        ) : !room.canonical_alias && !room.name ? (
          // Nothing to call it by but its id.
          <p class="alias">
            <code>
              <RemoteText text={room.room_id} max={255} />
            </code>
          </p>
        ) : null}
        <Topic topic={room.topic} max={280} lang={language} />
        <ul class="facts">
          <li class="members">{t.card.members(room.num_joined_members)}</li>
          {room.growth_7d !== 0 ? (
            <li class={room.growth_7d > 0 ? 'growth up' : 'growth down'}>
              {t.card.growthWeek(room.growth_7d)}
            </li>
          ) : null}
          <li>
            <ComplexityBadge complexity={room.complexity} estimated={room.complexity_estimated} />
          </li>
          {room.join_rule !== 'public' ? (
            <li>
              <JoinRuleBadge joinRule={room.join_rule} />
            </li>
          ) : null}
          {language ? <li class="language">{languageName(language)}</li> : null}
          <li>{t.card.listedBy(room.servers.length)}</li>
          {room.stale ? (
            <li class="stale">{t.card.stale}</li>
          ) : seen ? (
            <li>{t.card.lastSeen(seen)}</li>
          ) : null}
        </ul>
      </div>
      <JoinLink room={room} />
    </article>
  );
}

/** A list of room cards; ids are made unique with `prefix`. */
export function RoomCards(props: { rooms: ApiRoom[]; prefix: string; now: number; heading?: 'h2' | 'h3' }) {
  return (
    <ol class="cards">
      {props.rooms.map((room, i) => (
        <li>
          <RoomCard room={room} id={`${props.prefix}-${i}`} now={props.now} heading={props.heading ?? 'h2'} />
        </li>
      ))}
    </ol>
  );
}
