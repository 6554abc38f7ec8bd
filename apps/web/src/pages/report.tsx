import { t } from '../i18n/index.ts';
import { Layout } from '../views/layout.tsx';

/** The report form: a plain POST, so it works without JavaScript. */
export function ReportForm(props: { action: string; heading: string }) {
  return (
    <section aria-labelledby="report-heading" class="report">
      <h2 id="report-heading">{props.heading}</h2>
      <p class="hint">{t.report.intro}</p>
      <form method="post" action={props.action}>
        <div class="field">
          <label for="reason">{t.report.reason}</label>
          <textarea
            id="reason"
            name="reason"
            required
            minlength={3}
            maxlength={2000}
            rows={4}
            aria-describedby="reason-hint"
          />
          <p class="hint" id="reason-hint">
            {t.report.reasonHint}
          </p>
        </div>
        <button type="submit" class="secondary">
          {t.report.submit}
        </button>
      </form>
    </section>
  );
}

/** What became of a report, with the way back. */
export function ReportResultPage(props: {
  sent: boolean;
  message: string;
  back: { href: string; label: string };
}) {
  const title = props.sent ? t.report.thanksTitle : t.report.failedTitle;
  return (
    <Layout title={title} section={undefined}>
      <h1>{title}</h1>
      <p role={props.sent ? 'status' : 'alert'} class={props.sent ? 'notice' : 'problems'}>
        {props.message}
      </p>
      <p>
        <a href={props.back.href}>{props.back.label}</a>
      </p>
    </Layout>
  );
}
