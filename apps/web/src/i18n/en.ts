import { formatChange, formatDecimal, formatInteger, formatShare, plural } from './format.ts';

/**
 * Every string the pages show, in English. A translation is a second object of this shape
 * (`Messages`); pages never hold text of their own. Messages that take numbers pluralise through
 * Intl.PluralRules and format through Intl.NumberFormat (format.ts).
 */
export const en = {
  siteName: 'Atlas',
  tagline: 'A directory of public Matrix rooms and the servers beside them',
  skipToContent: 'Skip to content',
  nav: { label: 'Main', rooms: 'Rooms', servers: 'Servers', stats: 'Stats', about: 'About' },
  footer: {
    text: 'Atlas reads the room directories that Matrix servers publish over federation.',
    api: 'API',
    feed: 'Element feed',
    about: 'How it works',
  },
  pageTitle: (title: string) => `${title} · Atlas`,

  rooms: {
    title: 'Find a Matrix room',
    heading: 'Find a Matrix room',
    intro: 'Search the public rooms of the whole federation, with how heavy each is to join.',
    searchLabel: 'Search rooms',
    searchPlaceholder: 'Words, #alias:server or a matrix.to link',
    searchButton: 'Search',
    filters: 'Filters',
    apply: 'Apply filters',
    clear: 'Clear all',
    language: 'Language',
    anyLanguage: 'Any language',
    kind: 'Rooms or spaces',
    kindAny: 'Rooms and spaces',
    kindRoom: 'Rooms only',
    kindSpace: 'Spaces only',
    joinRule: 'How to join',
    joinRuleAny: 'Any',
    minMembers: 'Members at least',
    maxMembers: 'Members at most',
    worldReadable: 'Readable without joining',
    joinable: 'My server can join it',
    joinableChoice: 'Server limit',
    joinableAny: 'Any room',
    joinableDefault: "Synapse's default limit (1.0)",
    joinableCustom: 'A custom limit…',
    joinableLimit: 'My limit_remote_rooms complexity',
    joinableHint:
      'Synapse refuses to join rooms above its limit_remote_rooms complexity when the limit is on. Rooms of unknown complexity are included.',
    sort: 'Sort by',
    applySort: 'Sort',
    sorts: {
      relevance: 'Relevance',
      members: 'Members',
      growth7d: 'Growth this week',
      growth30d: 'Growth this month',
      newest: 'Newest',
      complexity: 'Lightest to join',
    } as Record<string, string>,
    summary: (total: number, exact: boolean) =>
      exact
        ? plural(total, { one: '# room', other: '# rooms' })
        : `at least ${plural(total, { one: '# room', other: '# rooms' })}`,
    summaryFor: (count: string, query: string) => `${count} for “${query}”`,
    page: (n: number) => `Page ${formatInteger(n)}`,
    none: 'No room matches.',
    noneHint: 'Try fewer words or fewer filters; typos are forgiven, partial words are not always.',
    emptyDirectory: 'The directory is still empty.',
    emptyDirectoryHint:
      'Atlas fills it as it reads the directories of the servers it finds; the first rooms appear within minutes of starting.',
    hiddenNote:
      'Some rooms are left out on purpose: rooms whose owners opted out, and rooms an operator removed.',
    hiddenLink: 'How opting out works',
    directHit: 'The room you named',
    notInDirectory: (reference: string) => `${reference} is not in this directory.`,
    notInDirectoryHint:
      'It may be private, unpublished, opted out, or on a server Atlas has not read yet. Matrix.to can still try to open it:',
    openAnyway: 'Open with matrix.to',
    searching: 'Searching…',
  },

  /** The query parameters of the pages, named as their forms label them (for problems with them). */
  fieldNames: {
    q: 'Search rooms',
    language: 'Language',
    type: 'Rooms or spaces',
    join_rule: 'How to join',
    min_members: 'Members at least',
    max_members: 'Members at most',
    world_readable: 'Readable without joining',
    joinable: 'My server can join it',
    sort: 'Sort by',
    cursor: 'The page link (it is out of date: start again from the first page)',
    registration: 'Registration open',
    software: 'Software',
    min_uptime: 'Uptime over 30 days',
  } as Record<string, string>,

  pager: {
    label: 'Pages',
    previous: 'Previous page',
    next: 'Next page',
    first: 'First page',
  },

  card: {
    unnamed: 'Unnamed room',
    members: (n: number) => plural(n, { one: '# member', other: '# members' }),
    growthWeek: (n: number) => `${formatChange(n)} this week`,
    space: 'Space',
    listedBy: (n: number) => plural(n, { one: 'listed by # server', other: 'listed by # servers' }),
    lastSeen: (ago: string) => `seen ${ago}`,
    stale: 'no longer listed',
    join: 'Join',
    view: 'View',
    joinLabel: (name: string) => `Join ${name} with matrix.to`,
    viewLabel: (name: string) => `View ${name} with matrix.to`,
    details: 'Details',
  },

  joinRules: {
    public: 'Anyone can join',
    knock: 'Ask to join',
    knock_restricted: 'Ask to join, or join from a space',
    restricted: 'Members of a space',
    invite: 'Invite only',
    private: 'Invite only',
  } as Record<string, string>,

  complexity: {
    label: 'Complexity',
    levels: {
      light: 'light',
      moderate: 'moderate',
      heavy: 'heavy for a small server',
      unknown: 'complexity unknown',
    },
    title: {
      light: 'Light to join: well under the limit of a small Synapse server',
      moderate: "Under Synapse's default limit, but a join takes some memory and time",
      heavy:
        "Above Synapse's default limit_remote_rooms complexity (1.0): a server with the limit on refuses to join",
      unknown: 'No server told Atlas how heavy this room is',
    },
    estimated: 'estimated',
    value: (v: number) => formatDecimal(v),
    explain:
      'Complexity is the number of state events in the room divided by 500, as Synapse counts it. Synapse refuses to join rooms above its limit_remote_rooms complexity when that limit is on (1.0 by default).',
    measured: (server: string, when: string) => `Measured by ${server}, ${when}.`,
    estimatedFrom: (when: string) =>
      `Estimated from the member count, ${when}; no server answered Atlas's question.`,
    unknownWhy: 'No server in the room answered, and Atlas has no estimate yet.',
    canJoin: (limit: string) => `A server with limit_remote_rooms complexity ${limit} can join this room.`,
    cannotJoin: (limit: string) =>
      `A server with limit_remote_rooms complexity ${limit} refuses to join this room (M_RESOURCE_LIMIT_EXCEEDED).`,
    mayJoin: (limit: string) =>
      `A server with limit_remote_rooms complexity ${limit} lets the join through when it cannot learn the complexity.`,
    checkLimit: 'Check another limit',
    checkButton: 'Check',
  },

  room: {
    back: 'Back to the rooms',
    join: 'Join with matrix.to',
    view: 'View with matrix.to',
    element: 'Open in Element',
    copyAlias: 'Copy the alias',
    copied: 'Copied',
    aliasLabel: 'Alias',
    membersHeading: 'Members',
    membersNow: (n: number) => plural(n, { one: '# member now', other: '# members now' }),
    growth: (week: number, month: number) =>
      week === 0 && month === 0
        ? 'No change over the last week or month.'
        : `${formatChange(week)} this week, ${formatChange(month)} this month.`,
    chart30: 'Members over the last 30 days',
    chart90: 'Members over the last 90 days',
    noHistory: 'Atlas has not counted this room on enough days to draw a trend yet.',
    chartSummary: (first: number, last: number, days: number) =>
      `From ${formatInteger(first)} to ${formatInteger(last)} members over ${plural(days, { one: '# day', other: '# days' })}.`,
    complexityHeading: 'How heavy it is to join',
    serversHeading: 'Servers',
    serversInRoom: (n: number) =>
      plural(n, { one: '# server has users in this room', other: '# servers have users in this room' }),
    serversInRoomUnknown: 'Atlas has not learned which servers are in this room.',
    listingHeading: 'Listed by',
    listingActive: 'lists it now',
    listingGone: 'no longer lists it',
    listedSince: (date: string) => `since ${date}`,
    factsHeading: 'Room facts',
    roomId: 'Room ID',
    joinRule: 'How to join',
    guestAccess: 'Guests',
    guestsYes: 'Guests can join',
    guestsNo: 'Guests cannot join',
    readable: 'Reading',
    readableYes: 'Readable without joining',
    readableNo: 'Only members can read',
    language: 'Language',
    languageUnknown: 'Not detected',
    type: 'Kind',
    typeRoom: 'Room',
    typeSpace: 'Space',
    firstSeen: 'First seen',
    lastSeen: 'Last seen in a directory',
    notFoundTitle: 'Room not in this directory',
    notFound: (roomId: string) => `${roomId} is not in this directory.`,
  },

  report: {
    heading: 'Report this room',
    serverHeading: 'Report this server',
    intro:
      "Tell this directory's operator why it should not be listed. Reports go to the operator of Atlas only, not to the room or its server.",
    reason: 'Why should it not be listed?',
    reasonHint: 'Between 3 and 2,000 characters.',
    submit: 'Send the report',
    thanksTitle: 'Report sent',
    thanks: 'Thank you. The operator of this directory will read it.',
    failedTitle: 'The report was not sent',
    rateLimited: (minutes: number) =>
      `Too many reports from your address in the last hour. Try again in ${plural(minutes, { one: '# minute', other: '# minutes' })}.`,
    backToRoom: 'Back to the room',
    backToServer: 'Back to the server',
    crossSite: 'Reports can only be sent from this directory’s own pages.',
  },

  servers: {
    title: 'Choose a server',
    heading: 'Choose a Matrix server',
    intro:
      'Small servers with open sign-up and good uptime come first, shuffled each day among servers of equal standing, so that no single server gets every newcomer.',
    registrationOpen: 'Registration open',
    software: 'Software',
    anySoftware: 'Any software',
    minUptime: 'Uptime over 30 days',
    anyUptime: 'Any uptime',
    uptimeAtLeast: (share: string) => `at least ${share}`,
    language: 'Language of their rooms',
    sort: 'Order',
    sorts: {
      recommended: 'Recommended',
      rooms: 'Most rooms',
      smallest: 'Fewest rooms',
      uptime: 'Best uptime',
      latency: 'Fastest',
      newest: 'Newest found',
      name: 'Name',
    } as Record<string, string>,
    apply: 'Apply',
    clear: 'Clear all',
    none: 'No server matches these filters.',
    empty: 'Atlas has not found any server yet.',
    emptyHint:
      'It starts from its seed servers and follows the rooms they list; servers appear within minutes.',
    registration: {
      open: 'Registration open',
      invite: 'Registration by invitation (needs a registration token)',
      closed: 'Registration closed',
      unknown: 'Registration unknown',
    } as Record<string, string>,
    stages: {
      'm.login.email.identity': 'email',
      'm.login.msisdn': 'phone number',
      'm.login.recaptcha': 'captcha',
      'm.login.terms': 'terms to accept',
      'm.login.registration_token': 'registration token (invite)',
      'm.login.dummy': 'no extra step',
      'm.login.sso': 'single sign-on',
    } as Record<string, string>,
    via: (stages: string) => `with ${stages}`,
    uptime: (share: number) => `${formatShare(share)} uptime`,
    uptimeUnknown: 'uptime not measured yet',
    latency: (ms: number) => `${formatInteger(ms)} ms`,
    rooms: (n: number) => plural(n, { one: '# room published', other: '# rooms published' }),
    roomsMembers: (rooms: number, members: number) =>
      `${plural(rooms, { one: '# room', other: '# rooms' })} published, ${plural(members, { one: '# member', other: '# members' })}`,
    noDirectory: 'publishes no directory over federation',
    checked: (ago: string) => `checked ${ago}`,
    notChecked: 'not checked yet',
    contacts: 'Contacts',
    role: {
      'm.role.admin': 'Admin',
      'm.role.security': 'Security',
      'm.role.moderator': 'Moderator',
    } as Record<string, string>,
    status: {
      online: 'Online',
      offline: 'Offline',
      new: 'Not checked yet',
      invalid: 'Not a reachable server',
    } as Record<string, string>,
  },

  server: {
    back: 'Back to the servers',
    signUpHeading: 'Signing up',
    supportPage: 'Support page',
    clientUrl: 'Client address',
    uptimeHeading: 'Uptime',
    uptimeStrip: 'Each square is a day of the last 30: the share of checks the server answered.',
    uptimeDay: (day: string, share: string | null, checks: number) =>
      share === null
        ? `${day}: not checked`
        : `${day}: ${share} of ${plural(checks, { one: '# check', other: '# checks' })} answered`,
    uptimeSummary: (day: string, week: string, month: string) =>
      `Last day ${day}, last 7 days ${week}, last 30 days ${month}.`,
    notMeasured: 'not measured',
    factsHeading: 'Server facts',
    software: 'Software',
    unknownSoftware: 'Unknown',
    latency: 'Latency',
    foundViaLabel: 'How Atlas found it',
    resolution: 'How its name resolves',
    discovered: 'Found',
    lastChecked: 'Last checked',
    lastCrawl: 'Last directory read',
    neverCrawled: 'Not read yet',
    crawlSummary: (outcome: string, rooms: number, when: string) =>
      `${outcome}: ${plural(rooms, { one: '# room', other: '# rooms' })}, ${when}`,
    stopReason: 'Why the read stopped',
    checksHeading: 'Checks',
    checksCaption: 'The last checks of this server, newest first.',
    checkWhen: 'When',
    checkResult: 'Result',
    checkLatency: 'Latency',
    checkVersion: 'Version',
    answered: 'Answered',
    noAnswer: 'No answer',
    noChecks: 'Atlas has not checked this server yet.',
    roomsHeading: 'Rooms it publishes',
    roomCap:
      'This server lists more rooms than Atlas keeps from one server: only the first part of its directory is shown here, and it is held for review.',
    noRooms: 'Atlas has not found any room in its directory.',
    notFoundTitle: 'Server not in this directory',
    notFound: (name: string) => `${name} is not in this directory.`,
    foundVia: {
      seed: 'A seed server Atlas starts from',
      alias: 'The server of a room alias',
      room_id: 'The server of a room id',
      query_directory: 'In a room Atlas looked up',
      hierarchy: 'In a space Atlas looked up',
      inbound: 'It sent Atlas a request',
      submission: 'Someone submitted it',
      admin: 'The operator added it',
    } as Record<string, string>,
    foundFrom: (from: string) => `(${from})`,
    resolutionSteps: {
      ip_literal: 'An IP address',
      explicit_port: 'A name with a port',
      well_known: '.well-known delegation',
      well_known_srv_matrix_fed: '.well-known, then an SRV record',
      well_known_srv_matrix: '.well-known, then a legacy SRV record',
      srv_matrix_fed: 'An SRV record (_matrix-fed._tcp)',
      srv_matrix: 'A legacy SRV record (_matrix._tcp)',
      default_port: 'The name on port 8448',
    } as Record<string, string>,
    delegatedTo: (target: string) => `reached at ${target}`,
    outcomes: {
      running: 'Reading now',
      complete: 'Read to the end',
      partial: 'Read in part',
      forbidden: 'Not published over federation',
      no_access: 'Could not be read',
      failed: 'Failed',
    } as Record<string, string>,
    stopReasons: {
      end: 'the directory ended',
      forbidden: 'the server refused (403)',
      page_cap: 'the page cap was reached',
      room_cap: 'the room cap was reached',
      time_cap: 'the time cap was reached',
      superseded: 'a newer read took over',
      repeated_token: 'the server repeated a page token',
      error: 'an error',
      aborted: 'Atlas stopped',
    } as Record<string, string>,
  },

  /** Probe errors in words; the raw error is shown beside unknown ones. */
  checkErrors: [
    [/ENOTFOUND|EAI_AGAIN|no address|NXDOMAIN|resolve/i, 'Its name does not resolve'],
    [/ECONNREFUSED|refused/i, 'The connection was refused'],
    [/timeout|timed out|ETIMEDOUT/i, 'It did not answer in time'],
    [/certificate|TLS|SSL|self.signed|CERT_/i, 'Its TLS certificate was not accepted'],
    [/ECONNRESET|socket hang up|closed/i, 'It closed the connection'],
    [/blocked|private|not allowed|forbidden address/i, 'It points into a network Atlas does not contact'],
    [/\b5\d\d\b/, 'It answered with a server error'],
    [/\b4\d\d\b/, 'It refused the request'],
    [/JSON|parse|malformed/i, 'It answered something that is not Matrix'],
  ] as [RegExp, string][],

  stats: {
    title: 'Stats',
    heading: 'The federation at a glance',
    generated: (ago: string) => `Counted ${ago}.`,
    crawlHeading: 'Crawling now',
    crawlNew: (servers: number) =>
      servers === 0
        ? 'Every server Atlas knows has been checked at least once.'
        : `${plural(servers, { one: '# server waits', other: '# servers wait' })} for a first check.`,
    crawlHour: (checked: number, read: number) =>
      `In the last hour: ${plural(checked, { one: '# server checked', other: '# servers checked' })}, ${plural(read, { one: '# directory read', other: '# directories read' })}.`,
    crawlLastRead: (ago: string) => `Last directory read ${ago}.`,
    crawlIndex: (rooms: number) =>
      rooms === 0
        ? 'Every room Atlas keeps is in the search index.'
        : `${plural(rooms, { one: '# room waits', other: '# rooms wait' })} for the search index (it catches up within a minute).`,
    serversKnown: 'Servers known',
    serversOnline: 'Online',
    serversPublishing: 'Publishing a directory',
    serversOpen: 'Open registration',
    roomsKnown: 'Rooms known',
    roomsSearchable: 'Searchable',
    spaces: 'Spaces',
    members: 'Members, all rooms',
    byStatus: 'Servers by status',
    bySoftware: 'Online servers by software',
    roomsPerDay: 'Rooms first seen per day, last 30 days',
    serversPerDay: 'Servers found per day, last 30 days',
    languages: 'Rooms by language',
    biggest: 'Biggest rooms',
    rising: 'Fastest growing this week',
    noRooms: 'No rooms yet.',
    noneRising: 'No room grew this week.',
    chartTotal: (n: number) => `${formatInteger(n)} in all.`,
    statusNames: {
      online: 'Online',
      offline: 'Offline',
      new: 'Not checked yet',
      invalid: 'Unreachable name',
    } as Record<string, string>,
  },

  about: {
    title: 'About',
    heading: 'About Atlas',
    what: [
      'Atlas is a directory of public Matrix rooms. It finds homeservers across the federation, reads the room directories they publish over federation, and measures every server (software, uptime, open registration, contacts) and every room (members, language, growth, and the complexity that Synapse uses to refuse heavy joins).',
      'Its first aim is to help people who run or use a small homeserver: find rooms across the whole federation, see before joining whether their server can afford a room, and choose a small, open, reliable server to sign up on.',
    ],
    measuredHeading: 'What Atlas measures, and how',
    measured: [
      'Rooms: what their servers publish in their public room directories (name, topic, alias, members), read over federation with a signed request, or through a server’s client API where it allows that.',
      'Complexity: asked of a server that is in the room (Synapse’s complexity endpoint), else estimated from the member count, and always shown with where it came from.',
      'Servers: checked regularly (version, registration, contacts, latency); uptime is the share of those checks that were answered.',
    ],
    optOutHeading: 'How a room or a server opts out',
    optOut: [
      'A room: put (atlas-noindex) in its topic. Atlas also honours (MRS-noindex:true-MRS), the tag of the Matrix Rooms Search project. The room leaves the directory at the next read of its server. Removing a room from its server’s public directory works too.',
      'A server: stop publishing the room directory over federation (Synapse: allow_public_rooms_over_federation: false, the default). Atlas then lists none of its rooms.',
      'Anything else: use the report form on a room’s page, or write to the operator of this directory.',
    ],
    elementHeading: 'Use this directory in Element',
    element:
      'Element’s “Explore rooms” lists the servers named in its config.json under room_directory.servers. Atlas serves such a list, best first, at:',
    elementSnippet: 'A config.json fragment with the current list:',
    elementServer: (name: string) =>
      `This directory is a Matrix server too: in Element’s “Explore rooms”, choose “Add new server…” and enter ${name}.`,
    apiHeading: 'API',
    api: 'Everything on these pages is in the JSON API, described at',
    apiDocs: 'API documentation',
  },

  errors: {
    notFoundTitle: 'Page not found',
    notFound: 'There is no page at this address.',
    badRequestTitle: 'That search cannot be run',
    badRequest: 'Something in the address is not valid:',
    serverErrorTitle: 'Something went wrong',
    serverError: 'Atlas could not build this page. Try again in a moment.',
    rateLimitedTitle: 'Too many requests',
    rateLimited: 'Your address sent too many requests in the last minute. Wait a little and try again.',
    unavailableTitle: 'The directory is not available right now',
    unavailable: 'Atlas cannot reach its database at the moment. Try again in a minute.',
    goHome: 'Go to the rooms',
    goBack: 'Start a new search',
  },

  copy: { done: 'Copied', failed: 'Could not copy' },
};

export type Messages = typeof en;

export const formatters = { formatInteger, formatShare, formatDecimal };
