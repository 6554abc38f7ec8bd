/**
 * The relevance set: what a person types, and the room they are looking for, over the relevance
 * corpus (test/support/relevance-corpus.ts: the simulated federation of seed "atlas-relevance" and
 * a few named rooms). `within: 1` the room must come first, `within: 5` among the first five.
 * Where several rooms bear the name searched for, the one looked for is the biggest of them.
 */
export interface RelevanceCase {
  q: string;
  room: string;
  within: 1 | 5;
  /** What the case is about, for the report. */
  kind: 'alias' | 'name' | 'members' | 'typo' | 'prefix' | 'topic' | 'script';
}

export const RELEVANCE_SET: RelevanceCase[] = [
  // A room's alias, pasted whole: that room, whatever its name.
  {
    kind: 'alias',
    q: '#curious-python-9izh:matrix1.simfed.test',
    room: '!cBgsWoQYoxDjTxXkXM:matrix1.simfed.test',
    within: 1,
  },
  {
    kind: 'alias',
    q: '#mellow-hackers-hq-nb3g:home19.simfed.test',
    room: '!hAxOymhLxnPoLEgGOF:home19.simfed.test',
    within: 1,
  },
  {
    kind: 'alias',
    q: '#mellow-music-off-topic-s6y8:matrix29.simfed.test',
    room: '!GqBzUoaxpXXHXQ6bJz7QFZkJPO9p8DzoKGbHkpOD2S0',
    within: 1,
  },
  {
    kind: 'alias',
    q: '#green-hackers-hq-dq1z:m0.simfed.test',
    room: '!cOUgidophOlRbIYIeO:m0.simfed.test',
    within: 1,
  },
  {
    kind: 'alias',
    q: '#lazy-chess-off-topic-ewpd:home36.simfed.test',
    room: '!LttkDXqFrJbGtoBFxn:home36.simfed.test',
    within: 1,
  },
  {
    kind: 'alias',
    q: '#wild-selfhosting-t1yh:chat5.simfed.test',
    room: '!8xVtNY8f4JWF9T7_hIKPCXYygW6FHssC9hJERzNzS_U',
    within: 1,
  },
  { kind: 'alias', q: '#math-77k7:m0.simfed.test', room: '!BPnjwGvLtQvwbulMZz:m0.simfed.test', within: 1 },
  { kind: 'alias', q: '#twokinds:comics.example', room: '!twokinds:comics.example', within: 1 },
  { kind: 'alias', q: '#linux:penguins.example', room: '!parlour:penguins.example', within: 1 },
  { kind: 'alias', q: 'linux:penguins.example', room: '!parlour:penguins.example', within: 1 },
  // Its local part, as people remember it: an exact alias first, above bigger rooms with the word in their name.
  { kind: 'alias', q: 'linux', room: '!parlour:penguins.example', within: 1 },
  { kind: 'alias', q: 'quiet-devops-chat-uens', room: '!kClJWpkLLQlimLpWtw:m0.simfed.test', within: 1 },
  {
    kind: 'alias',
    q: 'friendly-lounge-support-h90b',
    room: '!LBtxNPj4-DHX7l8jnL8UnzPTP8CxWtXR8qg4IcOG_sk',
    within: 1,
  },
  { kind: 'alias', q: 'sunny-cooking-hq-hvux', room: '!IJaiXscisLkEIrIiLc:m0.simfed.test', within: 1 },
  { kind: 'alias', q: 'tea-8bvh', room: '!ZaxtBvtXYEtVaLTVJp:m0.simfed.test', within: 1 },

  // A whole name: that room, above bigger rooms whose names hold the same words and more.
  { kind: 'name', q: 'Curious cooking support', room: '!ViyaFcQKcHFIqFfajL:matrix1.simfed.test', within: 1 },
  { kind: 'name', q: 'open selfhosting chat', room: '!dJviWNEIzFixuZCIXY:talk13.simfed.test', within: 1 },
  { kind: 'name', q: 'Amber selfhosting club', room: '!YxZRjEkXBEDfoQvwcv:matrix1.simfed.test', within: 1 },
  { kind: 'name', q: 'amber climbing off-topic', room: '!ADbNxVrqvQOYGsgYon:matrix1.simfed.test', within: 1 },
  { kind: 'name', q: 'Northern sailing HQ', room: '!BNoghivAcqPVgBFgUR:hs34.simfed.test', within: 1 },
  { kind: 'name', q: 'polar coffee support', room: '!xApPiAFRkeBdQEflDj:m0.simfed.test', within: 1 },
  { kind: 'name', q: 'Local python meetup', room: '!eOdRrjTRmXnvShaiyb:m0.simfed.test', within: 1 },
  { kind: 'name', q: 'Curious cyclists support', room: '!ZocbKnZzrlImASXAOd:chat5.simfed.test', within: 1 },
  { kind: 'name', q: 'vast synths help', room: '!yoNEYElsLPflHvtWQc:hs15.simfed.test:8449', within: 1 },
  { kind: 'name', q: 'Linux gaming', room: '!bQZoAQPEjWZbdMVaOk:m0.simfed.test', within: 1 },
  { kind: 'name', q: 'TwoKinds', room: '!twokinds:comics.example', within: 1 },

  // A name several rooms bear: the biggest of them.
  { kind: 'members', q: 'Linux history', room: '!oOhhbKZFtUOOKuTGFi:m0.simfed.test', within: 1 },
  { kind: 'members', q: 'Mellow birding', room: '!4C9AW0Mfx88SpAnEkbRD4b_JoFF4C5ZqK1nWP8Gym7M', within: 1 },
  { kind: 'members', q: 'retro cooking', room: '!SdzYeHLDlfEATtAWzx:hs28.simfed.test', within: 1 },
  {
    kind: 'members',
    q: 'Nocturnal robotics off-topic',
    room: '!QRUnFBMBHhkJCUWgrm:matrix29.simfed.test',
    within: 1,
  },
  {
    kind: 'members',
    q: 'Friendly robotics',
    room: '!cVO60iW54WHkr8jauklyP5dJg3_KYb1IFlcW8ph0YSM',
    within: 1,
  },
  { kind: 'members', q: 'Amber lounge', room: '!iaFDvAeHIyCyyDXpRu:m0.simfed.test', within: 1 },
  { kind: 'members', q: 'friendly tea help', room: '!UxRXxhABnLnjNUgrFB:chat2.simfed.test', within: 1 },
  { kind: 'members', q: 'Wild tea', room: '!txNYCVzzoYciOsHpwp:talk20.simfed.test', within: 1 },
  { kind: 'members', q: 'Zürich Stammtisch', room: '!lhSDOtNplUSpsxoITu:home30.simfed.test', within: 1 },
  { kind: 'members', q: 'astronomy', room: '!EqwwkhKdmeAwIFyJZU:talk13.simfed.test', within: 5 },
  { kind: 'members', q: 'knitting', room: '!KVDWbzIrHtZISbTclE:m0.simfed.test', within: 5 },

  // Typos.
  { kind: 'typo', q: 'Mellow birdnig', room: '!4C9AW0Mfx88SpAnEkbRD4b_JoFF4C5ZqK1nWP8Gym7M', within: 5 },
  { kind: 'typo', q: 'Frendly robotics', room: '!cVO60iW54WHkr8jauklyP5dJg3_KYb1IFlcW8ph0YSM', within: 5 },
  { kind: 'typo', q: 'retro cookng', room: '!SdzYeHLDlfEATtAWzx:hs28.simfed.test', within: 5 },
  { kind: 'typo', q: 'nocturnal robotcs', room: '!QRUnFBMBHhkJCUWgrm:matrix29.simfed.test', within: 5 },
  { kind: 'typo', q: 'TwoKnids', room: '!twokinds:comics.example', within: 1 },
  { kind: 'typo', q: 'astronmy', room: '!EqwwkhKdmeAwIFyJZU:talk13.simfed.test', within: 5 },
  { kind: 'typo', q: 'photograpy', room: '!003XzIulB_Vpw7e7v_0OpqEuXRtT_kJYHeR99OV5EJs', within: 5 },
  { kind: 'typo', q: 'northren hackers', room: '!HCDTwuOfuGNDYxzzjG:m0.simfed.test', within: 5 },
  { kind: 'typo', q: 'Datenschtz', room: '!datenschutz:de.example', within: 5 },

  // The word being typed, as a prefix.
  { kind: 'prefix', q: 'Two', room: '!twokinds:comics.example', within: 5 },
  { kind: 'prefix', q: 'TwoK', room: '!twokinds:comics.example', within: 1 },
  { kind: 'prefix', q: 'Mellow birdi', room: '!4C9AW0Mfx88SpAnEkbRD4b_JoFF4C5ZqK1nWP8Gym7M', within: 5 },
  { kind: 'prefix', q: 'nocturnal robo', room: '!QRUnFBMBHhkJCUWgrm:matrix29.simfed.test', within: 5 },
  { kind: 'prefix', q: 'selfhost', room: '!ekvUXNXEPiYuhoRVJK:127.77.0.10:8449', within: 5 },
  { kind: 'prefix', q: 'astro', room: '!EqwwkhKdmeAwIFyJZU:talk13.simfed.test', within: 5 },
  { kind: 'prefix', q: 'Zürich Stamm', room: '!lhSDOtNplUSpsxoITu:home30.simfed.test', within: 1 },
  { kind: 'prefix', q: 'Datenschutz', room: '!datenschutz:de.example', within: 1 },
  { kind: 'prefix', q: 'green fi', room: '!pxaywURnnkCPazeRTJ:m0.simfed.test', within: 5 },

  // Words of the topic.
  { kind: 'topic', q: 'webcomic', room: '!twokinds:comics.example', within: 1 },
  { kind: 'topic', q: 'fantasy webcomic', room: '!twokinds:comics.example', within: 1 },
  { kind: 'topic', q: 'Tom Fischbach', room: '!twokinds:comics.example', within: 1 },
  { kind: 'topic', q: 'Verschlüsselung', room: '!datenschutz:de.example', within: 1 },
  { kind: 'topic', q: 'verschlusselung privatsphare', room: '!datenschutz:de.example', within: 1 },

  // Other scripts: words written without spaces (Chinese, Thai, Japanese), vowel points (Hebrew),
  // accents (Greek, Vietnamese, Turkish), right-to-left text (Arabic, Persian).
  { kind: 'script', q: '中文交流群', room: '!JLuRvuLKADIDrLyMlj:hs34.simfed.test', within: 1 },
  { kind: 'script', q: '交流', room: '!JLuRvuLKADIDrLyMlj:hs34.simfed.test', within: 5 },
  { kind: 'script', q: '开源', room: '!oss:zh.example', within: 1 },
  { kind: 'script', q: '软件', room: '!oss:zh.example', within: 1 },
  { kind: 'script', q: 'Linux 中文', room: '!linuxzh:zh.example', within: 1 },
  { kind: 'script', q: 'ภาษาไทย', room: '!thai:th.example', within: 1 },
  { kind: 'script', q: 'อาหารไทย', room: '!thaicook:th.example', within: 1 },
  { kind: 'script', q: 'ไทย', room: '!thai:th.example', within: 5 },
  { kind: 'script', q: 'チャット', room: '!CmCXravrkc86TwbWHVdnLUx0Y_K_ailcl6-m_zpY8D4', within: 1 },
  { kind: 'script', q: '日本語', room: '!CmCXravrkc86TwbWHVdnLUx0Y_K_ailcl6-m_zpY8D4', within: 1 },
  { kind: 'script', q: 'עברית למתחילים', room: '!DbpCBvrlbOXbUzYiYm:m0.simfed.test', within: 1 },
  { kind: 'script', q: 'למתחילים', room: '!DbpCBvrlbOXbUzYiYm:m0.simfed.test', within: 1 },
  { kind: 'script', q: 'עִבְרִית', room: '!DbpCBvrlbOXbUzYiYm:m0.simfed.test', within: 5 },
  { kind: 'script', q: 'תורה', room: '!torah:he.example', within: 1 },
  { kind: 'script', q: 'Ελληνικά', room: '!Td2lIi2WZlRMdbOnf7-k_L9q3Kcf875HzAHc2EsrGDA', within: 1 },
  { kind: 'script', q: 'ελληνικα', room: '!Td2lIi2WZlRMdbOnf7-k_L9q3Kcf875HzAHc2EsrGDA', within: 1 },
  { kind: 'script', q: 'Русский', room: '!wGBIoCmlzLSrkWiESG:talk13.simfed.test', within: 1 },
  { kind: 'script', q: '모임', room: '!SQaCYPjuKphKJLVuRR:matrix1.simfed.test', within: 1 },
  { kind: 'script', q: 'البرمجة', room: '!NIlrAUqBBLosRFxuGL:talk20.simfed.test', within: 1 },
  { kind: 'script', q: 'القهوة', room: '!lASRMLiXpEYDSrGQux:m0.simfed.test', within: 1 },
  { kind: 'script', q: 'فارسی', room: '!qbHWJfRvYqxGJeJpis:hs28.simfed.test', within: 1 },
  { kind: 'script', q: 'tieng viet', room: '!yGrMKakmEMuqGQLqVF:matrix16.simfed.test', within: 1 },
  { kind: 'script', q: 'turkce sohbet', room: '!OoJcKSmxSclPCdMuKN:home36.simfed.test', within: 1 },
  { kind: 'script', q: 'Nandu observers', room: '!HxpGHsuomrkoQxHshj:hs32.simfed.test', within: 1 },
  { kind: 'script', q: 'ქართული', room: '!lroWGZqNHrwhnFJaBq:chat27.simfed.test', within: 1 },
  { kind: 'script', q: 'हिन्दी', room: '!aPpj41NI9KGw68Mmy17GAvTDKMFMD_2XGjf_OCt5Vy4', within: 1 },
];
