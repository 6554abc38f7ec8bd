import { en, type Messages } from './en.ts';

/** The pages' messages. English only for now; a second catalogue would be chosen per request here. */
export const t: Messages = en;
export * from './format.ts';
export type { Messages };
