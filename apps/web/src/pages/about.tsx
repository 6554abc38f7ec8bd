import { t } from '../i18n/index.ts';
import type { WebSettings } from '../services.ts';
import { Layout } from '../views/layout.tsx';

export function AboutPage(props: { settings: WebSettings; servers: string[] }) {
  const { settings } = props;
  const base = settings.publicUrl?.replace(/\/+$/, '') ?? '';
  const feedUrl = `${base}/api/v1/element/config.json`;
  const snippet = JSON.stringify({ room_directory: { servers: props.servers } }, null, 2);
  return (
    <Layout title={t.about.title} section="about">
      <h1>{t.about.heading}</h1>
      {t.about.what.map((paragraph) => (
        <p>{paragraph}</p>
      ))}
      <section aria-labelledby="measured-heading">
        <h2 id="measured-heading">{t.about.measuredHeading}</h2>
        <ul>
          {t.about.measured.map((item) => (
            <li>{item}</li>
          ))}
        </ul>
      </section>
      <section aria-labelledby="opt-out">
        <h2 id="opt-out">{t.about.optOutHeading}</h2>
        <ul>
          {t.about.optOut.map((item) => (
            <li>{item}</li>
          ))}
        </ul>
      </section>
      <section aria-labelledby="element-heading">
        <h2 id="element-heading">{t.about.elementHeading}</h2>
        <p>
          {t.about.element} <a href={feedUrl}>{feedUrl}</a>
        </p>
        <p>{t.about.elementSnippet}</p>
        <pre class="snippet" tabindex={0}>
          <code>{snippet}</code>
        </pre>
        {settings.serverName ? <p>{t.about.elementServer(settings.serverName)}</p> : null}
      </section>
      <section aria-labelledby="api-heading">
        <h2 id="api-heading">{t.about.apiHeading}</h2>
        <p>
          {t.about.api} <a href="/api/v1/docs">{t.about.apiDocs}</a>.
        </p>
      </section>
    </Layout>
  );
}
