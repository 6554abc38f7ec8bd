import { t } from '../i18n/index.ts';

export interface Option {
  value: string;
  label: string;
}

/**
 * The choices of a filter: "any" first, then the known values; a value in the address that is not
 * among them (a shared link from another day) stays selectable, so the form shows what the page did.
 */
export function choices(
  any: string,
  known: Option[],
  selected: string | undefined,
  label = (v: string) => v,
): Option[] {
  const options = [{ value: '', label: any }, ...known];
  if (selected && !known.some((o) => o.value === selected))
    options.push({ value: selected, label: label(selected) });
  return options;
}

/** A labelled <select>; `value` picks the option. */
export function Select(props: {
  id: string;
  name: string;
  label: string;
  value: string | undefined;
  options: Option[];
  describedBy?: string;
}) {
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      <select id={props.id} name={props.name} aria-describedby={props.describedBy}>
        {props.options.map((option) => (
          <option value={option.value} selected={option.value === (props.value ?? '')}>
            {option.label}
          </option>
        ))}
      </select>
    </div>
  );
}

export function NumberField(props: {
  id: string;
  name: string;
  label: string;
  value: string | undefined;
  min?: number;
  max?: number;
  step?: string;
  describedBy?: string;
}) {
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      <input
        type="number"
        inputmode="decimal"
        id={props.id}
        name={props.name}
        value={props.value ?? ''}
        min={props.min}
        max={props.max}
        step={props.step ?? '1'}
        aria-describedby={props.describedBy}
      />
    </div>
  );
}

export function Checkbox(props: {
  id: string;
  name: string;
  label: string;
  checked: boolean;
  value?: string;
}) {
  return (
    <div class="field check">
      <input
        type="checkbox"
        id={props.id}
        name={props.name}
        value={props.value ?? 'true'}
        checked={props.checked}
      />
      <label for={props.id}>{props.label}</label>
    </div>
  );
}

/** Problems with the input, said plainly at the top of the results, with a way to start again. */
export function Problems(props: { problems: string[]; startAgain: string }) {
  return (
    <div class="problems" role="alert">
      <h2>{t.errors.badRequestTitle}</h2>
      <p>{t.errors.badRequest}</p>
      <ul>
        {props.problems.map((problem) => (
          <li>{problem}</li>
        ))}
      </ul>
      <p>
        <a href={props.startAgain}>{t.errors.goBack}</a>
      </p>
    </div>
  );
}
