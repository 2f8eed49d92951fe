import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { getJson, sendJson, type Me } from '../api';
import { ErrorMessage, Field, PageTitle, useLoad } from '../components';

export interface SeriesView {
  id: string;
  code: string;
  name: string;
  years: number;
  months: number;
  days: number;
  trigger: string;
  disposition: 'destroy' | 'review';
  citation: string;
  retention: string;
}

export function SeriesPage({ me }: { me: Me }) {
  const { t } = useTranslation();
  const series = useLoad((signal) => getJson<{ items: SeriesView[] }>('/retention/series', signal), []);
  const officer = me.roles.includes('records_officer');
  const [editing, setEditing] = useState<SeriesView>();
  return (
    <section>
      <PageTitle>{t('series.title')}</PageTitle>
      <ErrorMessage error={series.error} />
      {series.data && (
        <table data-testid="series-table">
          <thead>
            <tr>
              <th scope="col">{t('series.code')}</th>
              <th scope="col">{t('series.name')}</th>
              <th scope="col">{t('series.retention')}</th>
              <th scope="col">{t('series.trigger')}</th>
              <th scope="col">{t('series.disposition')}</th>
              <th scope="col">{t('series.citation')}</th>
              {officer && <th scope="col">{t('common.actions')}</th>}
            </tr>
          </thead>
          <tbody>
            {series.data.items.map((s) => (
              <tr key={s.id}>
                <td>{s.code}</td>
                <td>{s.name}</td>
                <td>{t('series.period', { years: s.years, months: s.months, days: s.days })}</td>
                <td>{s.trigger === 'created' ? t('series.triggerCreated') : s.trigger}</td>
                <td>{t(`series.${s.disposition}`)}</td>
                <td>{s.citation}</td>
                {officer && (
                  <td>
                    <button type="button" onClick={() => setEditing(s)} aria-label={t('series.editNamed', { code: s.code })}>
                      {t('users.edit')}
                    </button>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {series.data?.items.length === 0 && <p>{t('series.none')}</p>}
      {officer && editing && <SeriesForm key={editing.id} existing={editing} onDone={() => (setEditing(undefined), series.reload())} />}
      {officer && <SeriesForm onDone={series.reload} />}
      {officer && <RecordEventForm />}
    </section>
  );
}

/** Create a series, or edit one (`existing`): everything but its code, which is its identity. */
function SeriesForm({ existing, onDone }: { existing?: SeriesView; onDone: () => void }) {
  const { t } = useTranslation();
  const [f, setF] = useState(
    existing
      ? { code: existing.code, name: existing.name, years: String(existing.years), months: String(existing.months), days: String(existing.days), trigger: existing.trigger, disposition: existing.disposition as string, citation: existing.citation }
      : { code: '', name: '', years: '0', months: '0', days: '0', trigger: 'created', disposition: 'destroy', citation: '' },
  );
  const [error, setError] = useState<unknown>();
  const [saved, setSaved] = useState<string>();
  const set = (k: keyof typeof f) => (e: { target: { value: string } }) => setF({ ...f, [k]: e.target.value });
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(undefined);
    try {
      const { code, ...rest } = f;
      const body = { ...rest, years: Number(f.years), months: Number(f.months), days: Number(f.days) };
      const saved = existing
        ? await sendJson<SeriesView>('PATCH', `/retention/series/${existing.id}`, body)
        : await sendJson<SeriesView>('POST', '/retention/series', { code, ...body });
      setSaved(saved.code);
      onDone();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <form onSubmit={(e) => void submit(e)} className="stack card" aria-labelledby={existing ? 'series-edit' : 'series-new'}>
      <h2 id={existing ? 'series-edit' : 'series-new'}>{existing ? t('series.editTitle', { code: existing.code }) : t('series.new')}</h2>
      <div className="grid">
        <Field label={t('series.code')}>{(id) => <input id={id} value={f.code} onChange={set('code')} required readOnly={Boolean(existing)} />}</Field>
        <Field label={t('series.name')}>{(id) => <input id={id} value={f.name} onChange={set('name')} required />}</Field>
        <Field label={t('series.years')}>{(id) => <input id={id} type="number" min={0} value={f.years} onChange={set('years')} />}</Field>
        <Field label={t('series.months')}>{(id) => <input id={id} type="number" min={0} value={f.months} onChange={set('months')} />}</Field>
        <Field label={t('series.days')}>{(id) => <input id={id} type="number" min={0} value={f.days} onChange={set('days')} />}</Field>
        <Field label={t('series.trigger')} hint={t('series.triggerHint')}>
          {(id) => <input id={id} value={f.trigger} onChange={set('trigger')} required />}
        </Field>
        <Field label={t('series.disposition')}>
          {(id) => (
            <select id={id} value={f.disposition} onChange={set('disposition')}>
              <option value="destroy">{t('series.destroy')}</option>
              <option value="review">{t('series.review')}</option>
            </select>
          )}
        </Field>
        <Field label={t('series.citation')}>{(id) => <input id={id} value={f.citation} onChange={set('citation')} required />}</Field>
      </div>
      <ErrorMessage error={error} />
      {saved && <p role="status">{t(existing ? 'series.saved' : 'series.created', { code: saved })}</p>}
      <button type="submit" className="primary">
        {existing ? t('edit.save') : t('series.create')}
      </button>
    </form>
  );
}

function RecordEventForm() {
  const { t } = useTranslation();
  const [event, setEvent] = useState('');
  const [occurredAt, setOccurredAt] = useState('');
  const [ids, setIds] = useState('');
  const [error, setError] = useState<unknown>();
  const [recorded, setRecorded] = useState<number>();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(undefined);
    setRecorded(undefined);
    try {
      const documentIds = ids.split(/[\s,]+/).filter(Boolean);
      const res = await sendJson<{ items: unknown[] }>('POST', '/retention/events', { event, occurredAt: new Date(`${occurredAt}T00:00:00`).toISOString(), documentIds });
      setRecorded(res.items.length);
    } catch (err) {
      setError(err);
    }
  };
  return (
    <form onSubmit={(e) => void submit(e)} className="stack card" aria-labelledby="event-new">
      <h2 id="event-new">{t('events.title')}</h2>
      <div className="grid">
        <Field label={t('events.event')} hint={t('events.eventHint')}>
          {(id) => <input id={id} value={event} onChange={(e) => setEvent(e.target.value)} required />}
        </Field>
        <Field label={t('events.occurredAt')}>{(id) => <input id={id} type="date" value={occurredAt} onChange={(e) => setOccurredAt(e.target.value)} required />}</Field>
      </div>
      <Field label={t('events.documentIds')} hint={t('holds.documentIdsHint')}>
        {(id) => <textarea id={id} value={ids} onChange={(e) => setIds(e.target.value)} required />}
      </Field>
      <ErrorMessage error={error} />
      {recorded !== undefined && <p role="status">{t('events.recorded', { count: recorded })}</p>}
      <button type="submit">{t('events.submit')}</button>
    </form>
  );
}
