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
  const [amending, setAmending] = useState<string | null>(null);
  const [amended, setAmended] = useState('');
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
                    <>
                      <button type="button" onClick={() => setAmending(h.id)} aria-label={t('holds.amendNamed', { name: h.name })}>
                        {t('holds.amend')}
                      </button>{' '}
                      <button type="button" onClick={() => void release(h.id)} aria-label={t('holds.releaseNamed', { name: h.name })}>
                        {t('holds.release')}
                      </button>
                    </>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {amended && <p role="status">{t('holds.amended', { name: amended })}</p>}
      {officer && amending && holds.data?.items.some((h) => h.id === amending && h.active) && (
        <AmendHoldForm
          key={amending}
          hold={holds.data.items.find((h) => h.id === amending)!}
          onCancel={() => setAmending(null)}
          onDone={(h) => {
            setAmending(null);
            setAmended(h.name);
            holds.reload();
          }}
        />
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

/** PATCH /holds/:id: only what changed is sent; the server checks added documents as when placing a hold. */
function AmendHoldForm({ hold, onCancel, onDone }: { hold: HoldView; onCancel: () => void; onDone: (h: HoldView) => void }) {
  const { t } = useTranslation();
  const [name, setName] = useState(hold.name);
  const [reason, setReason] = useState(hold.reason);
  const [add, setAdd] = useState('');
  const [remove, setRemove] = useState<string[]>([]);
  const [error, setError] = useState<unknown>();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(undefined);
    const patch: Record<string, unknown> = {};
    if (name !== hold.name) patch.name = name;
    if (reason !== hold.reason) patch.reason = reason;
    const added = [...new Set(add.split(/[\s,]+/).filter(Boolean))];
    if (added.length) patch.addDocumentIds = added;
    if (remove.length) patch.removeDocumentIds = remove;
    if (!Object.keys(patch).length) return onCancel();
    try {
      onDone(await sendJson<HoldView>('PATCH', `/holds/${hold.id}`, patch));
    } catch (err) {
      setError(err);
    }
  };
  return (
    <form onSubmit={(e) => void submit(e)} className="stack card" aria-labelledby="hold-amend">
      <h2 id="hold-amend">{t('holds.amendTitle', { name: hold.name })}</h2>
      <Field label={t('holds.name')}>{(id) => <input id={id} value={name} onChange={(e) => setName(e.target.value)} required maxLength={200} />}</Field>
      <Field label={t('holds.reason')}>{(id) => <textarea id={id} value={reason} onChange={(e) => setReason(e.target.value)} required maxLength={2000} />}</Field>
      <Field label={t('holds.addDocumentIds')} hint={t('holds.documentIdsHint')}>
        {(id) => <textarea id={id} value={add} onChange={(e) => setAdd(e.target.value)} />}
      </Field>
      {hold.documentIds.length > 0 && (
        <fieldset>
          <legend>{t('holds.removeDocuments')}</legend>
          {hold.documentIds.map((d) => (
            <label key={d} className="choice">
              <input type="checkbox" checked={remove.includes(d)} onChange={() => setRemove((r) => (r.includes(d) ? r.filter((x) => x !== d) : [...r, d]))} />{' '}
              {t('holds.removeNamed', { id: d })}
            </label>
          ))}
        </fieldset>
      )}
      <ErrorMessage error={error} />
      <div className="actions">
        <button type="submit" className="primary">
          {t('holds.amendSubmit')}
        </button>{' '}
        <button type="button" onClick={onCancel}>
          {t('common.cancel')}
        </button>
      </div>
    </form>
  );
}
