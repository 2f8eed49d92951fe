import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { API, ApiError, CLASSIFICATIONS, getJson, query, sendJson, type DocumentView, type Me, type Page } from '../api';
import { ClassificationTag, ErrorMessage, Field, PageTitle, Pager, useLoad, useShownClassifications } from '../components';
import { formatDateTime } from '../i18n';
import { PurposeDialog } from '../purpose';
import { Link, useRouter } from '../router';

const FILTERS = ['q', 'kind', 'classification', 'department', 'tag', 'reviewOverdue', 'seriesId', 'createdFrom', 'createdTo', 'reviewDueFrom', 'reviewDueTo'] as const;
const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** The start of a calendar day in the user's own time zone, as the instant the API expects. */
function startOfDay(day: string, plusDays = 0): string | undefined {
  if (!DAY.test(day)) return undefined;
  const [y, m, d] = day.split('-').map(Number);
  return new Date(y, m - 1, d + plusDays).toISOString();
}

/** The URL keeps the days a person picked (both inclusive); the API takes [from, to) instants. */
function apiFilters(params: Record<(typeof FILTERS)[number], string>): Record<string, string | undefined> {
  return {
    ...params,
    createdFrom: startOfDay(params.createdFrom),
    createdTo: startOfDay(params.createdTo, 1),
    reviewDueFrom: startOfDay(params.reviewDueFrom),
    reviewDueTo: startOfDay(params.reviewDueTo, 1),
  };
}

export function DocumentsPage({ me }: { me: Me }) {
  const { t, i18n } = useTranslation();
  const { search, navigate } = useRouter();
  const params = Object.fromEntries(FILTERS.map((f) => [f, search.get(f) ?? ''])) as Record<(typeof FILTERS)[number], string>;
  const page = Number(search.get('page') ?? '1') || 1;
  const [form, setForm] = useState(params);
  const key = search.toString();
  const { data, error, loading } = useLoad((signal) => getJson<Page<DocumentView>>(`/documents${query({ ...apiFilters(params), page, pageSize: 20 })}`, signal), [key]);
  useShownClassifications(data?.items.map((d) => d.classification) ?? []);
  const officer = me.roles.includes('records_officer');
  // The file plan is readable by officers and auditors; others filter by a series id (e.g. from a document's page).
  const readsSeries = officer || me.roles.includes('auditor');
  const series = useLoad(
    (signal) => (readsSeries ? getJson<{ items: Array<{ id: string; code: string; name: string }> }>('/retention/series', signal) : Promise.resolve(undefined)),
    [readsSeries],
  );
  // A `specific` (My Number) document is opened only with a purpose, asked before anything is read.
  const [asking, setAsking] = useState<DocumentView | null>(null);
  const [selected, setSelected] = useState<string[]>([]);
  const toggle = (id: string) => setSelected((s) => (s.includes(id) ? s.filter((x) => x !== id) : [...s, id]));

  const go = (next: Record<string, string>, p = 1) => navigate(`/documents${query({ ...next, page: p > 1 ? p : undefined })}`);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    go(form);
  };
  const set = (k: keyof typeof form) => (e: { target: { value: string } }) => setForm({ ...form, [k]: e.target.value });

  return (
    <section>
      <PageTitle>{t('documents.title')}</PageTitle>
      {me.roles.includes('staff') && (
        <p>
          <Link to="/documents/new" className="button">
            {t('nav.upload')}
          </Link>
        </p>
      )}
      {(me.roles.includes('records_officer') || me.roles.includes('auditor')) && (
        <div className="toolbar" role="group" aria-label={t('inventory.export')}>
          <span>{t('inventory.export')}:</span>
          <a className="button" href={`${API}/reports/inventory?format=csv`} download>
            CSV
          </a>
          <a className="button" href={`${API}/reports/inventory?format=json`} download>
            JSON
          </a>
        </div>
      )}
      <form className="filters" onSubmit={submit} role="search" aria-label={t('documents.filters')}>
        <Field label={t('documents.q')}>{(id) => <input id={id} type="search" value={form.q} onChange={set('q')} />}</Field>
        <Field label={t('document.kind')}>
          {(id) => (
            <select id={id} value={form.kind} onChange={set('kind')}>
              <option value="">{t('common.any')}</option>
              {['policy', 'procedure', 'record'].map((k) => (
                <option key={k} value={k}>
                  {t(`kind.${k}`)}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label={t('document.classification')}>
          {(id) => (
            <select id={id} value={form.classification} onChange={set('classification')}>
              <option value="">{t('common.any')}</option>
              {CLASSIFICATIONS.map((c) => (
                <option key={c} value={c}>
                  {t(`classification.${c}`)}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label={t('document.department')}>{(id) => <input id={id} value={form.department} onChange={set('department')} />}</Field>
        <Field label={t('document.tag')}>{(id) => <input id={id} value={form.tag} onChange={set('tag')} />}</Field>
        <Field label={t('documents.series')}>
          {(id) =>
            readsSeries ? (
              <select id={id} value={form.seriesId} onChange={set('seriesId')}>
                <option value="">{t('common.any')}</option>
                {series.data?.items.map((s) => (
                  <option key={s.id} value={s.id}>
                    {s.code} — {s.name}
                  </option>
                ))}
              </select>
            ) : (
              <input id={id} value={form.seriesId} onChange={set('seriesId')} placeholder={t('documents.seriesId')} pattern="[0-9a-fA-F-]{36}" />
            )
          }
        </Field>
        <Field label={t('documents.createdFrom')}>{(id) => <input id={id} type="date" value={form.createdFrom} onChange={set('createdFrom')} max={form.createdTo || undefined} />}</Field>
        <Field label={t('documents.createdTo')}>{(id) => <input id={id} type="date" value={form.createdTo} onChange={set('createdTo')} min={form.createdFrom || undefined} />}</Field>
        <Field label={t('documents.reviewDueFrom')}>{(id) => <input id={id} type="date" value={form.reviewDueFrom} onChange={set('reviewDueFrom')} max={form.reviewDueTo || undefined} />}</Field>
        <Field label={t('documents.reviewDueTo')}>{(id) => <input id={id} type="date" value={form.reviewDueTo} onChange={set('reviewDueTo')} min={form.reviewDueFrom || undefined} />}</Field>
        <Field label={t('documents.reviewOverdue')}>
          {(id) => (
            <select id={id} value={form.reviewOverdue} onChange={set('reviewOverdue')}>
              <option value="">{t('common.any')}</option>
              <option value="true">{t('common.yes')}</option>
              <option value="false">{t('common.no')}</option>
            </select>
          )}
        </Field>
        <div className="actions">
          <button type="submit" className="primary">
            {t('common.search')}
          </button>
        </div>
      </form>
      <ErrorMessage error={error} />
      {loading && !data && <p>{t('common.loading')}</p>}
      {data && (
        <>
          <table data-testid="documents-table">
            <caption>{t('documents.count', { total: data.total })}</caption>
            <thead>
              <tr>
                {officer && <th scope="col">{t('disposition.select')}</th>}
                <th scope="col">{t('document.title')}</th>
                <th scope="col">{t('document.kind')}</th>
                <th scope="col">{t('document.classification')}</th>
                <th scope="col">{t('document.department')}</th>
                <th scope="col">{t('document.status')}</th>
                <th scope="col">{t('document.version')}</th>
                <th scope="col">{t('document.updatedAt')}</th>
              </tr>
            </thead>
            <tbody>
              {data.items.map((d) => (
                <tr key={d.id}>
                  {officer && (
                    <td>
                      <input type="checkbox" checked={selected.includes(d.id)} onChange={() => toggle(d.id)} aria-label={t('disposition.selectNamed', { title: d.title })} />
                    </td>
                  )}
                  <td>
                    {d.personalData === 'specific' ? (
                      <a
                        href={`/documents/${d.id}`}
                        onClick={(e) => {
                          if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
                          e.preventDefault();
                          setAsking(d);
                        }}
                      >
                        {d.title}
                      </a>
                    ) : (
                      <Link to={`/documents/${d.id}`}>{d.title}</Link>
                    )}
                  </td>
                  <td>{t(`kind.${d.kind}`)}</td>
                  <td>
                    <ClassificationTag level={d.classification} />
                  </td>
                  <td>{d.department}</td>
                  <td>{t(`status.${d.status}`)}</td>
                  <td>{d.version}</td>
                  <td>{formatDateTime(d.updatedAt, i18n.language)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {data.items.length === 0 && <p>{t('documents.none')}</p>}
          {asking && (
            <PurposeDialog title={asking.title} onChoose={(code) => navigate(`/documents/${asking.id}${query({ purpose: code })}`)} onCancel={() => setAsking(null)} />
          )}
          {officer && <AssignSeries ids={selected} onDone={() => setSelected([])} />}
          <Pager page={data.page} pageSize={data.pageSize} total={data.total} onPage={(p) => go(params, p)} />
        </>
      )}
    </section>
  );
}

/** Records officers file many documents into a series at once (one PATCH each; each is audited). */
function AssignSeries({ ids, onDone }: { ids: string[]; onDone: () => void }) {
  const { t } = useTranslation();
  const series = useLoad((signal) => getJson<{ items: Array<{ id: string; code: string; name: string }> }>('/retention/series', signal), []);
  const [seriesId, setSeriesId] = useState('');
  const [progress, setProgress] = useState<{ done: number; total: number; failed: Array<{ id: string; error: unknown }> }>();
  const assign = async () => {
    const failed: Array<{ id: string; error: unknown }> = [];
    const total = ids.length;
    setProgress({ done: 0, total, failed });
    for (let i = 0; i < ids.length; i++) {
      try {
        await sendJson('PATCH', `/documents/${ids[i]}`, { seriesId: seriesId || null });
      } catch (error) {
        failed.push({ id: ids[i], error });
        if (error instanceof ApiError && error.status === 401) break;
      }
      setProgress({ done: i + 1, total, failed: [...failed] });
    }
    if (!failed.length) onDone();
  };
  return (
    <div className="toolbar card">
      <Field label={t('documents.assignSeries')}>
        {(id) => (
          <select id={id} value={seriesId} onChange={(e) => setSeriesId(e.target.value)}>
            <option value="">{t('edit.noSeries')}</option>
            {series.data?.items.map((s) => (
              <option key={s.id} value={s.id}>
                {s.code} — {s.name}
              </option>
            ))}
          </select>
        )}
      </Field>
      <button type="button" disabled={!ids.length} onClick={() => void assign()}>
        {t('documents.assign', { count: ids.length })}
      </button>
      {progress && (
        <span role="status">
          {t('documents.assigned', { done: progress.done, total: progress.total })}
        </span>
      )}
      {progress?.failed.map((f) => <ErrorMessage key={f.id} error={f.error} />)}
    </div>
  );
}
