import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { getJson, sendJson, type Me } from '../api';
import { ErrorMessage, Field, PageTitle, useLoad } from '../components';
import { formatDateTime } from '../i18n';
import { Link } from '../router';

interface HoldView {
  id: string;
  name: string;
  reason: string;
  active: boolean;
  documentIds: string[];
  /** Documents on the hold this reader may not see: a count, never ids. */
  withheldDocuments?: number;
  createdAt: string;
  createdBy: string;
  releasedAt: string | null;
  releasedBy: string | null;
}

export function HoldsPage({ me }: { me: Me }) {
  const { t, i18n } = useTranslation();
  const holds = useLoad((signal) => getJson<{ items: HoldView[] }>('/holds', signal), []);
  const officer = me.roles.includes('records_officer');
  const [error, setError] = useState<unknown>();
  const release = async (id: string) => {
    setError(undefined);
    try {
      await sendJson('POST', `/holds/${id}/release`);
      holds.reload();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <section>
      <PageTitle>{t('holds.title')}</PageTitle>
      <ErrorMessage error={holds.error ?? error} />
      {holds.data && (
        <table data-testid="holds-table">
          <thead>
            <tr>
              <th scope="col">{t('holds.name')}</th>
              <th scope="col">{t('holds.reason')}</th>
              <th scope="col">{t('holds.documents')}</th>
              <th scope="col">{t('holds.placed')}</th>
              <th scope="col">{t('holds.state')}</th>
              <th scope="col">{t('common.actions')}</th>
            </tr>
          </thead>
          <tbody>
            {holds.data.items.map((h) => (
              <tr key={h.id}>
                <td>{h.name}</td>
                <td>{h.reason}</td>
                <td>
                  <ul className="plain">
                    {h.documentIds.map((d) => (
                      <li key={d}>
                        <Link to={`/documents/${d}`}>
                          <code>{d.slice(0, 8)}</code>
                        </Link>
                      </li>
                    ))}
                    {(h.withheldDocuments ?? 0) > 0 && <li>{t('holds.withheld', { count: h.withheldDocuments })}</li>}
                  </ul>
                </td>
                <td>
                  {formatDateTime(h.createdAt, i18n.language)} ({h.createdBy})
                </td>
                <td>{h.active ? t('holds.active') : t('holds.released', { at: formatDateTime(h.releasedAt, i18n.language), by: h.releasedBy })}</td>
                <td>
                  {officer && h.active && (
                    <button type="button" onClick={() => void release(h.id)} aria-label={t('holds.releaseNamed', { name: h.name })}>
                      {t('holds.release')}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {officer && <PlaceHoldForm onDone={holds.reload} />}
    </section>
  );
}

function PlaceHoldForm({ onDone }: { onDone: () => void }) {
  const { t } = useTranslation();
  const [name, setName] = useState('');
  const [reason, setReason] = useState('');
  const [ids, setIds] = useState('');
  const [error, setError] = useState<unknown>();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(undefined);
    try {
      await sendJson('POST', '/holds', { name, reason, documentIds: ids.split(/[\s,]+/).filter(Boolean) });
      setName('');
      setReason('');
      setIds('');
      onDone();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <form onSubmit={(e) => void submit(e)} className="stack card" aria-labelledby="hold-new">
      <h2 id="hold-new">{t('holds.place')}</h2>
      <Field label={t('holds.name')}>{(id) => <input id={id} value={name} onChange={(e) => setName(e.target.value)} required />}</Field>
      <Field label={t('holds.reason')}>{(id) => <textarea id={id} value={reason} onChange={(e) => setReason(e.target.value)} required />}</Field>
      <Field label={t('holds.documentIds')} hint={t('holds.documentIdsHint')}>
        {(id) => <textarea id={id} value={ids} onChange={(e) => setIds(e.target.value)} required />}
      </Field>
      <ErrorMessage error={error} />
      <button type="submit" className="primary">
        {t('holds.placeSubmit')}
      </button>
    </form>
  );
}
