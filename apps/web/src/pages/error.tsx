import type { Child } from 'hono/jsx';
import { t } from '../i18n/index.ts';
import { Layout } from '../views/layout.tsx';
import { RemoteText } from '../views/text.tsx';

/** A page that says what went wrong and offers a way on; never a stack trace. */
export function ErrorPage(props: {
  title: string;
  message: string;
  back?: { href: string; label: string };
  children?: Child;
}) {
  const back = props.back ?? { href: '/', label: t.errors.goHome };
  return (
    <Layout title={props.title} section={undefined}>
      <h1>{props.title}</h1>
      <p class="lead">
        <RemoteText text={props.message} max={600} />
      </p>
      {props.children}
      <p>
        <a href={back.href} class="button">
          {back.label}
        </a>
      </p>
    </Layout>
  );
}
