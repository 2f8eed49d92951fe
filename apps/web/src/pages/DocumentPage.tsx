import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { API, ApiError, CLASSIFICATIONS, downloadVia, getJson, isPurposeRefusal, purposeHeaders, query, request, sendJson, upload, type Classification, type DocumentView, type Me, type Purpose } from '../api';
import { ClassificationTag, ErrorMessage, Field, PageTitle, useLoad, useShownClassifications } from '../components';
import { formatBytes, formatDate, formatDateTime } from '../i18n';
import { PurposeDialog, purposeName } from '../purpose';
import { Link, useRouter } from '../router';

interface VersionView {
  number: number;
  size: number;
  sha256: string;
  mediaType: string;
  filename: string;
  authorId: string;
  comment: string | null;
  restoredFrom: number | null;
  createdAt: string;
}
interface HistoryItem {
  seq: string;
  at: string;
  actorName: string;
  action: string;
  outcome: string;
}

export function DocumentPage({ id, me }: { id: string; me: Me }) {
  const { t, i18n } = useTranslation();
  const { search, navigate } = useRouter();
  // The My Number purpose this handler named for a `specific` document; sent as X-Purpose on every read of it.
  const purpose = search.get('purpose') ?? '';
  const headers = purposeHeaders(purpose);
  const doc = useLoad(async (signal) => {
    const res = await request('GET', `/documents/${id}`, { signal, headers });
    return { document: (await res.json()) as DocumentView, etag: res.headers.get('ETag') ?? '' };
  }, [id, purpose]);
  // Only once the document itself was read: a refused read must not be followed by a second refused one.
  const versions = useLoad(
    async (signal) => (doc.data ? ((await request('GET', `/documents/${id}/versions`, { signal, headers })).json() as Promise<{ items: VersionView[] }>) : undefined),
    [id, doc.data?.etag, purpose],
  );
  const specific = doc.data?.document.personalData === 'specific';
  const purposes = useLoad((signal) => (specific ? getJson<{ items: Purpose[] }>('/mynumber/purposes', signal) : Promise.resolve(undefined)), [specific]);
  useShownClassifications([doc.data?.document.classification]);
  const choosePurpose = (code: string) => navigate(`/documents/${id}${query({ purpose: code })}`, true);

  if (doc.error) {
    return (
      <section>
        <PageTitle>{t('document.heading')}</PageTitle>
        {isPurposeRefusal(doc.error) ? (
          <>
            <p>{t('purpose.needed')}</p>
            <PurposeDialog key={purpose} refusal={purpose ? doc.error : undefined} onChoose={choosePurpose} onCancel={() => navigate('/documents')} />
          </>
        ) : (
          <ErrorMessage error={doc.error} />
        )}
      </section>
    );
  }
  if (!doc.data) return <p>{t('common.loading')}</p>;
  const d = doc.data.document;
  const isStaff = me.roles.includes('staff');
  const active = d.status === 'active';
  const named = purposes.data?.items.find((p) => p.code === purpose);

  return (
    <section>
      <PageTitle>{d.title}</PageTitle>
      <dl className="meta" data-testid="document-meta">
        <dt>{t('document.classification')}</dt>
        <dd>
          <ClassificationTag level={d.classification} />
        </dd>
        <dt>{t('document.kind')}</dt>
        <dd>{t(`kind.${d.kind}`)}</dd>
        <dt>{t('document.department')}</dt>
        <dd>{d.department}</dd>
        <dt>{t('document.status')}</dt>
        <dd>{t(`status.${d.status}`)}</dd>
        <dt>{t('document.version')}</dt>
        <dd data-testid="current-version">{d.version}</dd>
        <dt>{t('document.tags')}</dt>
        <dd>{d.tags.join(', ') || '—'}</dd>
        <dt>{t('document.personalData')}</dt>
        <dd>{t(`personalData.${d.personalData}`)}</dd>
        <dt>{t('document.reviewDueAt')}</dt>
        <dd>{formatDate(d.reviewDueAt, i18n.language)}</dd>
        <dt>{t('document.size')}</dt>
        <dd>{formatBytes(d.size, i18n.language)}</dd>
        <dt>SHA-256</dt>
        <dd>
          <code className="hash">{d.sha256}</code>
        </dd>
        <dt>{t('document.createdAt')}</dt>
        <dd>{formatDateTime(d.createdAt, i18n.language)}</dd>
        {specific && purpose && (
          <>
            <dt>{t('purpose.current')}</dt>
            <dd data-testid="current-purpose">
              {named && `${purposeName(named, purpose, i18n.language)} `}
              <code>{purpose}</code>
            </dd>
          </>
        )}
        {d.seriesId && (
          <>
            <dt>{t('document.series')}</dt>
            <dd>
              <Link to={`/documents${query({ seriesId: d.seriesId })}`}>{t('document.sameSeries')}</Link>
            </dd>
          </>
        )}
      </dl>
      {isStaff && d.status !== 'destroyed' && (
        <p>
          <Download id={d.id} purpose={specific ? purpose : ''} filename={versions.data?.items.find((v) => v.number === d.version)?.filename ?? d.title} testId="download-current" label={t('document.download')} />{' '}
          <small>{t('document.downloadLabelled')}</small>
        </p>
      )}

      <h2>{t('versions.title')}</h2>
      <ErrorMessage error={versions.error} />
      {versions.data && (
        <table data-testid="versions-table">
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">{t('versions.filename')}</th>
              <th scope="col">{t('document.size')}</th>
              <th scope="col">{t('versions.comment')}</th>
              <th scope="col">{t('document.createdAt')}</th>
              <th scope="col">{t('common.actions')}</th>
            </tr>
          </thead>
          <tbody>
            {versions.data.items.map((v) => (
              <tr key={v.number}>
                <td>{v.number}</td>
                <td>{v.filename}</td>
                <td>{formatBytes(v.size, i18n.language)}</td>
                <td>{v.restoredFrom ? t('versions.restoredFrom', { n: v.restoredFrom }) : (v.comment ?? '')}</td>
                <td>{formatDateTime(v.createdAt, i18n.language)}</td>
                <td>
                  {isStaff && d.status !== 'destroyed' && (
                    <Download id={d.id} version={v.number} purpose={specific ? purpose : ''} filename={v.filename} label={t('versions.download')} ariaLabel={t('versions.downloadN', { n: v.number })} />
                  )}{' '}
                  {isStaff && active && v.number !== d.version && (
                    <RestoreButton id={d.id} n={v.number} etag={doc.data!.etag} headers={specific ? headers : {}} onDone={doc.reload} />
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      {isStaff && active && <NewVersionForm id={d.id} etag={doc.data.etag} version={d.version} headers={specific ? headers : {}} onDone={doc.reload} />}
      {active && <EditForm document={d} me={me} onDone={doc.reload} />}
      <AccessHistory id={d.id} />
    </section>
  );
}

/**
 * A labelled download. A plain link lets the browser stream it; a `specific` document needs
 * X-Purpose, which a link cannot send, so it is fetched with the header and handed over.
 */
function Download({ id, version, purpose, filename, label, ariaLabel, testId }: { id: string; version?: number; purpose: string; filename: string; label: string; ariaLabel?: string; testId?: string }) {
  const [error, setError] = useState<unknown>();
  const path = `/documents/${id}/content${query({ version })}`;
  if (!purpose) {
    return (
      <a className={testId ? 'button' : undefined} href={`${API}${path}`} download aria-label={ariaLabel} data-testid={testId}>
        {label}
      </a>
    );
  }
  return (
    <>
      <button type="button" aria-label={ariaLabel} data-testid={testId} onClick={() => void downloadVia(path, '*/*', filename, purposeHeaders(purpose)).then(() => setError(undefined), setError)}>
        {label}
      </button>
      <ErrorMessage error={error} />
    </>
  );
}

function RestoreButton({ id, n, etag, headers, onDone }: { id: string; n: number; etag: string; headers: Record<string, string>; onDone: () => void }) {
  const { t } = useTranslation();
  const [error, setError] = useState<unknown>();
  return (
    <>
      <button
        type="button"
        onClick={() =>
          void sendJson('POST', `/documents/${id}/versions/${n}/restore`, undefined, { ...headers, 'If-Match': etag }).then(onDone, setError)
        }
      >
        {t('versions.restore', { n })}
      </button>
      <ErrorMessage error={error} />
    </>
  );
}

function NewVersionForm({ id, etag, version, headers, onDone }: { id: string; etag: string; version: number; headers: Record<string, string>; onDone: () => void }) {
  const { t } = useTranslation();
  const [file, setFile] = useState<File | null>(null);
  const [comment, setComment] = useState('');
  const [progress, setProgress] = useState<number | null>(null);
  const [error, setError] = useState<unknown>();
  const [conflict, setConflict] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!file) return;
    setError(undefined);
    setConflict(false);
    const form = new FormData();
    if (comment) form.append('comment', comment);
    form.append('file', file, file.name);
    setProgress(0);
    try {
      // If-Match names the version this person was looking at: a newer one uploaded meanwhile is not overwritten.
      await upload(`/documents/${id}/versions`, form, setProgress, { ...headers, 'If-Match': etag }).promise;
      setFile(null);
      setComment('');
      (e.target as HTMLFormElement).reset();
      onDone();
    } catch (err) {
      if (err instanceof ApiError && err.status === 412) setConflict(true);
      else setError(err);
    } finally {
      setProgress(null);
    }
  };

  return (
    <form onSubmit={(e) => void submit(e)} className="stack card" aria-labelledby="new-version-heading">
      <h2 id="new-version-heading">{t('versions.new')}</h2>
      <Field label={t('versions.file')}>{(fid) => <input id={fid} type="file" onChange={(e) => setFile(e.target.files?.[0] ?? null)} required data-testid="version-file" />}</Field>
      <Field label={t('versions.comment')}>{(fid) => <input id={fid} value={comment} onChange={(e) => setComment(e.target.value)} maxLength={1000} />}</Field>
      {progress !== null && <progress max={1} value={progress} aria-label={t('versions.progress')} />}
      {conflict && (
        <div className="error" role="alert" data-testid="version-conflict">
          <p>{t('versions.conflict', { version })}</p>
          <button type="button" onClick={onDone}>
            {t('versions.reload')}
          </button>
        </div>
      )}
      <ErrorMessage error={error} />
      <button type="submit" className="primary">
        {t('versions.upload')}
      </button>
    </form>
  );
}

function EditForm({ document: d, me, onDone }: { document: DocumentView; me: Me; onDone: () => void }) {
  const { t } = useTranslation();
  const [title, setTitle] = useState(d.title);
  const [tags, setTags] = useState(d.tags.join(', '));
  const [classification, setClassification] = useState<Classification>(d.classification);
  const [seriesId, setSeriesId] = useState(d.seriesId ?? '');
  const officer = me.roles.includes('records_officer');
  const series = useLoad(
    (signal) => (officer ? getJson<{ items: Array<{ id: string; code: string; name: string }> }>('/retention/series', signal) : Promise.resolve({ items: [] })),
    [officer],
  );
  const [error, setError] = useState<unknown>();
  const [saved, setSaved] = useState(false);
  const allowed = CLASSIFICATIONS.slice(0, CLASSIFICATIONS.indexOf(me.clearance) + 1);
  if (!me.roles.includes('staff') && !me.roles.includes('records_officer')) return null;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(undefined);
    setSaved(false);
    const patch: Record<string, unknown> = {};
    if (title !== d.title) patch.title = title;
    const tagList = tags.split(',').map((s) => s.trim()).filter(Boolean);
    if (tagList.join(',') !== d.tags.join(',')) patch.tags = tagList;
    if (classification !== d.classification) patch.classification = classification;
    if (officer && seriesId !== (d.seriesId ?? '')) patch.seriesId = seriesId || null;
    if (!Object.keys(patch).length) return;
    try {
      await sendJson('PATCH', `/documents/${d.id}`, patch);
      setSaved(true);
      onDone();
    } catch (err) {
      setError(err);
    }
  };

  return (
    <form onSubmit={(e) => void submit(e)} className="stack card" aria-labelledby="edit-heading">
      <h2 id="edit-heading">{t('edit.title')}</h2>
      <div className="grid">
        <Field label={t('document.title')}>{(id) => <input id={id} value={title} onChange={(e) => setTitle(e.target.value)} maxLength={500} />}</Field>
        <Field label={t('document.tags')}>{(id) => <input id={id} value={tags} onChange={(e) => setTags(e.target.value)} />}</Field>
        <Field label={t('edit.reclassify')} hint={t('edit.reclassifyHint')}>
          {(id) => (
            <select id={id} value={classification} onChange={(e) => setClassification(e.target.value as Classification)}>
              {allowed.map((c) => (
                <option key={c} value={c}>
                  {t(`classification.${c}`)}
                </option>
              ))}
            </select>
          )}
        </Field>
        {officer && (
          <Field label={t('edit.series')}>
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
        )}
      </div>
      <ErrorMessage error={error} />
      {saved && <p role="status">{t('edit.saved')}</p>}
      <button type="submit">{t('edit.save')}</button>
    </form>
  );
}

function AccessHistory({ id }: { id: string }) {
  const { t, i18n } = useTranslation();
  const [open, setOpen] = useState(false);
  const history = useLoad(
    (signal) => (open ? getJson<{ items: HistoryItem[]; total?: number }>(`/documents/${id}/access-history?pageSize=100`, signal) : Promise.resolve(undefined)),
    [id, open],
  );
  return (
    <section aria-labelledby="history-heading">
      <h2 id="history-heading">{t('history.title')}</h2>
      {!open && (
        <button type="button" onClick={() => setOpen(true)}>
          {t('history.show')}
        </button>
      )}
      {open && history.error instanceof ApiError && history.error.status === 403 ? (
        <p>{t('history.notYours')}</p>
      ) : (
        <ErrorMessage error={history.error} />
      )}
      {history.data && typeof history.data.total === 'number' && (
        <p>{t('history.shown', { shown: history.data.items.length, total: history.data.total })}</p>
      )}
      {history.data && (
        <table>
          <thead>
            <tr>
              <th scope="col">{t('audit.at')}</th>
              <th scope="col">{t('audit.actor')}</th>
              <th scope="col">{t('audit.action')}</th>
              <th scope="col">{t('audit.outcome')}</th>
            </tr>
          </thead>
          <tbody>
            {history.data.items.map((h, i) => (
              <tr key={h.seq ?? i}>
                <td>{formatDateTime(h.at, i18n.language)}</td>
                <td>{h.actorName}</td>
                <td>{h.action}</td>
                <td>{t(`outcome.${h.outcome}`, { defaultValue: h.outcome })}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
