import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { API, getJson, query, sendJson, type Page } from '../api';
import { ErrorMessage, Field, PageTitle, Pager, useLoad } from '../components';
import { formatDateTime } from '../i18n';

interface AuditEvent {
  seq: number;
  at: string;
  actorName: string;
  action: string;
  targetType: string | null;
  targetId: string | null;
  outcome: string;
  clientAddress: string | null;
  requestId: string | null;
}
interface VerifyResult {
  valid: boolean;
  checked: number;
  firstInvalidSeq: number | null;
  reason: string | null;
}
interface Checkpoint {
  seq: number;
  hash: string;
  createdAt: string;
  keyId: string;
}

const EMPTY = { actor: '', action: '', targetId: '', outcome: '', from: '', to: '' };
type Filters = typeof EMPTY;

/** `datetime-local` gives local wall time; the API wants ISO 8601 instants. */
function toIso(local: string): string | undefined {
  return local ? new Date(local).toISOString() : undefined;
}

export function AuditPage() {
  const { t, i18n } = useTranslation();
  const [form, setForm] = useState<Filters>(EMPTY);
  const [filters, setFilters] = useState<Filters>(EMPTY);
  const [page, setPage] = useState(1);
  const apiFilters = { ...filters, from: toIso(filters.from), to: toIso(filters.to) };
  const events = useLoad((signal) => getJson<Page<AuditEvent>>(`/audit/events${query({ ...apiFilters, page, pageSize: 50 })}`, signal), [JSON.stringify(filters), page]);
  const [verify, setVerify] = useState<{ result?: VerifyResult; checkpoint?: Checkpoint | null; error?: unknown; running?: boolean }>({});

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setFilters(form);
    setPage(1);
  };
  const set = (k: keyof Filters) => (e: { target: { value: string } }) => setForm({ ...form, [k]: e.target.value });

  const runVerify = async () => {
    setVerify({ running: true });
    try {
      const result = await getJson<VerifyResult>('/audit/verify');
      const checkpoints = await getJson<Page<Checkpoint>>('/audit/checkpoints?pageSize=1');
      setVerify({ result, checkpoint: checkpoints.items[0] ?? null });
    } catch (error) {
      setVerify({ error });
    }
  };
  const signCheckpoint = async () => {
    try {
      const checkpoint = await sendJson<Checkpoint>('POST', '/audit/checkpoints');
      setVerify((v) => ({ ...v, checkpoint }));
    } catch (error) {
      setVerify((v) => ({ ...v, error }));
    }
  };

  return (
    <section>
      <PageTitle>{t('audit.title')}</PageTitle>
      <form className="filters" onSubmit={submit} role="search" aria-label={t('audit.filters')}>
        <Field label={t('audit.actor')}>{(id) => <input id={id} value={form.actor} onChange={set('actor')} />}</Field>
        <Field label={t('audit.action')} hint="document.read">
          {(id) => <input id={id} value={form.action} onChange={set('action')} />}
        </Field>
        <Field label={t('audit.target')}>{(id) => <input id={id} value={form.targetId} onChange={set('targetId')} />}</Field>
        <Field label={t('audit.outcome')}>
          {(id) => (
            <select id={id} value={form.outcome} onChange={set('outcome')}>
              <option value="">{t('common.any')}</option>
              {['allowed', 'denied', 'failed'].map((o) => (
                <option key={o} value={o}>
                  {t(`outcome.${o}`)}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label={t('audit.from')}>{(id) => <input id={id} type="datetime-local" value={form.from} onChange={set('from')} />}</Field>
        <Field label={t('audit.to')}>{(id) => <input id={id} type="datetime-local" value={form.to} onChange={set('to')} />}</Field>
        <div className="actions">
          <button type="submit" className="primary">
            {t('common.search')}
          </button>
        </div>
      </form>

      <div className="toolbar" role="group" aria-label={t('audit.export')}>
        <span>{t('audit.export')}:</span>
        {(['csv', 'jsonl', 'pdf'] as const).map((format) => (
          <a key={format} className="button" href={`${API}/audit/events${query({ ...apiFilters, format })}`} download data-testid={`export-${format}`}>
            {format.toUpperCase()}
          </a>
        ))}
      </div>

      <section className="card" aria-labelledby="verify-heading">
        <h2 id="verify-heading">{t('audit.verifyTitle')}</h2>
        <button type="button" onClick={() => void runVerify()} disabled={verify.running}>
          {t('audit.verify')}
        </button>{' '}
        <button type="button" onClick={() => void signCheckpoint()}>
          {t('audit.checkpoint')}
        </button>
        {verify.running && <p role="status">{t('audit.verifying')}</p>}
        {verify.result && (
          <p role="status" className={verify.result.valid ? 'ok' : 'error'} data-testid="verify-result">
            {verify.result.valid
              ? t('audit.valid', { checked: verify.result.checked })
              : t('audit.invalid', { seq: verify.result.firstInvalidSeq, reason: verify.result.reason })}
          </p>
        )}
        {verify.checkpoint !== undefined && (
          <p data-testid="last-checkpoint">
            {verify.checkpoint
              ? t('audit.lastCheckpoint', { seq: verify.checkpoint.seq, at: formatDateTime(verify.checkpoint.createdAt, i18n.language), keyId: verify.checkpoint.keyId })
              : t('audit.noCheckpoint')}
          </p>
        )}
        <ErrorMessage error={verify.error} />
      </section>

      <ErrorMessage error={events.error} />
      {events.data && (
        <>
          <table data-testid="audit-table">
            <caption>{t('audit.count', { total: events.data.total })}</caption>
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">{t('audit.at')}</th>
                <th scope="col">{t('audit.actor')}</th>
                <th scope="col">{t('audit.action')}</th>
                <th scope="col">{t('audit.target')}</th>
                <th scope="col">{t('audit.outcome')}</th>
              </tr>
            </thead>
            <tbody>
              {events.data.items.map((e) => (
                <tr key={e.seq}>
                  <td>{e.seq}</td>
                  <td>{formatDateTime(e.at, i18n.language)}</td>
                  <td>{e.actorName}</td>
                  <td>{e.action}</td>
                  <td>
                    {e.targetType ? `${e.targetType} ` : ''}
                    <code>{e.targetId ?? ''}</code>
                  </td>
                  <td>{t(`outcome.${e.outcome}`)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <Pager page={events.data.page} pageSize={events.data.pageSize} total={events.data.total} onPage={setPage} />
        </>
      )}
    </section>
  );
}
