import { t } from '../i18n/index.ts';
import { complexityLevel } from '../matrix-links.ts';

/** A complexity badge that says what the number means for a small server. */
export function ComplexityBadge(props: { complexity: number | null; estimated: boolean }) {
  const level = complexityLevel(props.complexity);
  const value =
    props.complexity === null
      ? ''
      : ` ${t.complexity.value(props.complexity)}${props.estimated ? `, ${t.complexity.estimated}` : ''}`;
  return (
    <span class={`badge complexity complexity-${level}`} title={t.complexity.title[level]}>
      {t.complexity.levels[level]}
      {value ? <span class="value">{value}</span> : null}
    </span>
  );
}

export function SpaceBadge() {
  return <span class="badge space">{t.card.space}</span>;
}

export function JoinRuleBadge(props: { joinRule: string }) {
  if (props.joinRule === 'public') return null;
  return <span class="badge join-rule">{t.joinRules[props.joinRule] ?? props.joinRule}</span>;
}

export function StatusBadge(props: { status: string }) {
  return (
    <span class={`badge status status-${props.status}`}>
      {t.servers.status[props.status] ?? props.status}
    </span>
  );
}
