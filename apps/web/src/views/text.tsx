import { displayText, topicParts } from '../text.ts';

/**
 * Remote text as the pages show it: cleaned, clipped, isolated from the surrounding direction
 * (`<bdi>`), and marked with its language when Atlas detected one.
 */
export function RemoteText(props: { text: string | null | undefined; max: number; lang?: string | null }) {
  const shown = displayText(props.text, props.max);
  if (shown === null) return null;
  return <bdi lang={props.lang ?? undefined}>{shown}</bdi>;
}

/** A topic, clipped, with its http(s) links made links (and nothing else made anything). */
export function Topic(props: {
  topic: string | null;
  max: number;
  lang?: string | null;
  class?: string;
  /** Keep the topic's line breaks (the room page); cards show it on one run. */
  multiline?: boolean;
}) {
  const shown = displayText(props.topic, props.max, props.multiline);
  if (shown === null) return null;
  return (
    <p class={props.class ?? 'topic'} dir="auto" lang={props.lang ?? undefined}>
      {topicParts(shown).map((part) =>
        'link' in part ? (
          <a href={part.link} rel="nofollow noopener ugc noreferrer">
            {part.text}
          </a>
        ) : (
          part.text
        ),
      )}
    </p>
  );
}
