import { ATLAS_NOINDEX_TAG, MRS_NOINDEX_TAG } from '@atlas/shared/matrix';
import type { Rng } from './prng.ts';

const ADJECTIVES = [
  'quiet',
  'open',
  'friendly',
  'rusty',
  'green',
  'nocturnal',
  'tiny',
  'vast',
  'curious',
  'lazy',
  'polar',
  'amber',
  'mellow',
  'brave',
  'cosmic',
  'local',
  'retro',
  'wild',
  'urban',
  'northern',
  'sunny',
  'linux',
];
const NOUNS = [
  'lounge',
  'gardeners',
  'cyclists',
  'hackers',
  'readers',
  'chess',
  'photography',
  'cooking',
  'music',
  'astronomy',
  'homelab',
  'rust',
  'python',
  'knitting',
  'hiking',
  'birding',
  'gaming',
  'devops',
  'math',
  'history',
  'sailing',
  'coffee',
  'tea',
  'film',
  'poetry',
  'robotics',
  'synths',
  'climbing',
  'selfhosting',
];
const SUFFIXES = ['', '', '', ' chat', ' club', ' HQ', ' help', ' off-topic', ' meetup', ' support'];

/** Names people write in their own scripts; Atlas must keep them exactly. */
const UNICODE_NAMES = [
  'Café ☕ et croissants',
  '日本語チャット',
  '中文交流群',
  '한국어 모임',
  'Русский чат',
  'Ελληνικά',
  'Türkçe sohbet',
  'Tiếng Việt',
  'हिन्दी चर्चा',
  '🚀 Rockets & 🌌 space',
  'Ñandú 🐦 observers',
  'Zürich Stammtisch',
  'ქართული',
];
/** Right-to-left names (Arabic, Hebrew, Persian), some with a left-to-right mark as people type them. */
const RTL_NAMES = ['مجتمع البرمجة', 'עברית למתחילים', 'گفتگوی فارسی', 'القهوة ☕', 'Matrix \u200Fבעברית'];

/** Text Atlas must clean: C0/C1 controls, bidi overrides and isolates, invisibles, lone surrogates. */
const HOSTILE_FRAGMENTS = [
  '\u0007bell\u0007',
  'nul\u0000byte',
  'escape \u001B[31mred\u001B[0m',
  '\u202Egnp.exe',
  'left\u202Dright\u202C',
  '\u2066isolate\u2069',
  'zero\uFEFFwidth',
  'line\u2028sep',
  'c1\u0085control',
  'lone \uD800 surrogate',
];

const TOPICS = [
  'Be kind. No spam.',
  'A place to talk about anything.',
  'Weekly meetups on Thursdays.\nRules: https://example.org/rules',
  'Questions welcome, newcomers too.',
  'Bridged to IRC.',
  'Offtopic goes to the lounge.',
  'Ask, don\u2019t ask to ask.',
];

export function plainRoomName(rng: Rng): string {
  const adjective = rng.pick(ADJECTIVES);
  const noun = rng.pick(NOUNS);
  const suffix = rng.pick(SUFFIXES);
  const title = `${adjective[0]?.toUpperCase()}${adjective.slice(1)} ${noun}${suffix}`;
  return title;
}

export function unicodeRoomName(rng: Rng): string {
  return rng.chance(0.35) ? rng.pick(RTL_NAMES) : rng.pick(UNICODE_NAMES);
}

/** A name that needs cleaning: hostile characters, or far longer than anyone should store. */
export function hostileRoomName(rng: Rng): string {
  if (rng.chance(0.25)) return `${plainRoomName(rng)} ${'very long name '.repeat(rng.int(40, 700))}`;
  return `${plainRoomName(rng)} ${rng.pick(HOSTILE_FRAGMENTS)}`;
}

export function roomTopic(rng: Rng): string {
  return rng.pick(TOPICS);
}

export function hostileTopic(rng: Rng): string {
  if (rng.chance(0.3)) return `${'spam '.repeat(rng.int(1_000, 4_000))}`;
  return `${rng.pick(TOPICS)} ${rng.pick(HOSTILE_FRAGMENTS)}`;
}

/** A topic carrying one of the no-index tags, the way room owners write them (any case, anywhere). */
export function noindexTopic(rng: Rng): string {
  const tag = rng.chance(0.5) ? ATLAS_NOINDEX_TAG : MRS_NOINDEX_TAG;
  const written = rng.chance(0.3) ? tag.toUpperCase() : tag;
  return rng.chance(0.5) ? `${written} ${rng.pick(TOPICS)}` : `${rng.pick(TOPICS)} ${written}`;
}

/** The local part of an alias: lower-case words and digits. */
export function aliasLocalpart(rng: Rng, name: string | undefined): string {
  const base = (name ?? '')
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);
  return `${base || rng.pick(NOUNS)}-${rng.token(4, 'abcdefghijklmnopqrstuvwxyz0123456789')}`;
}
