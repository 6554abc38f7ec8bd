import { hasNoindexTag } from '@atlas/shared/matrix';
import { detectRoomLanguage, loadLanguageDetector, type RoomDocument } from '@atlas/shared/search';
import { cleanAlias, cleanName, cleanTopic } from '@atlas/shared/text';
import { generateFederation } from '../simfed/generate.ts';
import { roomDocument } from './seed-rooms.ts';

/** The simulated federation the relevance set was written against: same seed, same rooms and ids. */
export const RELEVANCE_FEDERATION = { servers: 40, seed: 'atlas-relevance', blockPrefix: '127.77.0' };

/**
 * Rooms the simulated federation does not generate, for what its word lists cannot show: a name
 * people search by its beginning, an alias that is not the name, scripts written without spaces
 * between words (Thai, Chinese), a German compound, Hebrew with vowel points.
 */
export const NAMED_ROOMS: RoomDocument[] = [
  roomDocument({
    roomId: '!twokinds:comics.example',
    name: 'TwoKinds',
    topic: 'The fantasy webcomic by Tom Fischbach',
    canonicalAlias: '#twokinds:comics.example',
    servers: ['comics.example'],
    numJoinedMembers: 420,
  }),
  roomDocument({
    roomId: '!twocats:comics.example',
    name: 'Two cats and a dog',
    servers: ['comics.example'],
    numJoinedMembers: 12,
  }),
  // A room found by its alias although its name says something else.
  roomDocument({
    roomId: '!parlour:penguins.example',
    name: 'Penguin Parlour',
    topic: 'Tux and friends',
    canonicalAlias: '#linux:penguins.example',
    servers: ['penguins.example'],
    numJoinedMembers: 25,
  }),
  roomDocument({
    roomId: '!lovers:penguins.example',
    name: 'Linux lovers',
    canonicalAlias: '#lovers:penguins.example',
    servers: ['penguins.example'],
    numJoinedMembers: 300,
  }),
  roomDocument({
    roomId: '!thai:th.example',
    name: 'ชุมชนคนไทย',
    topic: 'พูดคุยภาษาไทยและวัฒนธรรมไทย',
    canonicalAlias: '#thai:th.example',
    servers: ['th.example'],
    numJoinedMembers: 150,
  }),
  roomDocument({
    roomId: '!thaicook:th.example',
    name: 'อาหารไทยทำเอง',
    topic: 'สูตรอาหารไทยและการทำอาหาร',
    servers: ['th.example'],
    numJoinedMembers: 40,
  }),
  roomDocument({
    roomId: '!oss:zh.example',
    name: '开源软件讨论',
    topic: '自由软件和开源项目的交流',
    canonicalAlias: '#kaiyuan:zh.example',
    servers: ['zh.example'],
    numJoinedMembers: 230,
  }),
  roomDocument({
    roomId: '!linuxzh:zh.example',
    name: 'Linux中文社区',
    topic: '服务器和桌面',
    servers: ['zh.example'],
    numJoinedMembers: 95,
  }),
  roomDocument({
    roomId: '!datenschutz:de.example',
    name: 'Datenschutzrunde',
    topic: 'Verschlüsselung und Privatsphäre im Alltag',
    canonicalAlias: '#datenschutz:de.example',
    servers: ['de.example'],
    numJoinedMembers: 70,
  }),
  roomDocument({
    roomId: '!torah:he.example',
    name: 'לימוד תורה',
    topic: 'שיעורים בעִבְרִית',
    servers: ['he.example'],
    numJoinedMembers: 35,
  }),
];

/**
 * The search documents Atlas would hold after crawling the relevance federation: every room a
 * server lists, cleaned as the crawler cleans it, without no-index rooms, listed by the servers
 * that list it; then NAMED_ROOMS.
 */
export async function relevanceCorpus(): Promise<RoomDocument[]> {
  await loadLanguageDetector();
  const { federation } = generateFederation(RELEVANCE_FEDERATION);
  const listedBy = new Map<string, string[]>();
  for (const server of federation.servers) {
    for (const roomId of server.listed) listedBy.set(roomId, [...(listedBy.get(roomId) ?? []), server.name]);
  }
  const documents: RoomDocument[] = [];
  for (const room of federation.rooms.values()) {
    const servers = listedBy.get(room.roomId);
    const topic = cleanTopic(room.topic);
    if (!servers || hasNoindexTag(topic)) continue;
    const name = cleanName(room.name);
    documents.push(
      roomDocument({
        roomId: room.roomId,
        name,
        topic,
        canonicalAlias: cleanAlias(room.canonicalAlias),
        servers: servers.sort(),
        numJoinedMembers: room.members,
        worldReadable: room.worldReadable,
        guestCanJoin: room.guestCanJoin,
        joinRule: room.joinRule,
        roomType: room.roomType ?? null,
        language: detectRoomLanguage(name, topic),
      }),
    );
  }
  return [
    ...documents,
    ...NAMED_ROOMS.map((doc) => ({ ...doc, language: detectRoomLanguage(doc.name, doc.topic) })),
  ];
}
