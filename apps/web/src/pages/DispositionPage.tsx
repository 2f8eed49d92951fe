import { useEffect, useEffectEvent, useId, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError, downloadVia, getJson, sendJson, type Classification, type Me, type Page } from '../api';
import { ClassificationTag, ErrorMessage, Field, PageTitle, Pager, useLoad, useShownClassifications } from '../components';
import { formatBytes, formatDate, formatDateTime } from '../i18n';
import { Link, useRouter } from '../router';

interface DueItem {
  documentId: string;
  title: string;
  classification: Classification;
  seriesCode: string;
  disposition: 'destroy' | 'review';
  dispositionDate: string;
  reason: string;
  /** The open batch (proposed or executing) the document already waits in; older servers send none. */
  openBatch?: { id: string; state: string } | null;
}
interface BatchView {
  id: string;
  state: string;
  proposedBy: string;
  proposedAt: string;
  approvedBy: string | null;
  approvedAt: string | null;
  completedAt: string | null;
  items: Array<{ documentId: string; state: string; dueReason: string; decision: string | null }>;
  /** Documents in the batch this reader may not see: a count, never ids. */
  withheldItems?: number;
  certificate: string | null;
  /** Counts over every record of the batch (withheld ones too); older servers send none. */
  progress?: BatchProgress;
}
interface BatchProgress {
  total: number;
  destroyed: number;
  extended: number;
  skipped: number;
  remaining: number;
  /** While executing: a worker holds the batch (`running`) or none has taken it yet (`waiting`). */
  worker: 'running' | 'waiting' | null;
}
interface BatchSummary {
  id: string;
  state: string;
  proposedBy: string;
  proposedAt: string;
  approvedBy: string | null;
  documents: number;
  /** Older servers send none. */
  progress?: BatchProgress;
}
interface Proposal extends BatchView {
  plan: Array<{ documentId: string; title: string; classification: Classification; versions: unknown[] }>;
  totals: { documents: number; versions: number; objects: number; dataKeys: number; bytes: number };
}

export function DispositionPage({ me }: { me: Me }) {
  const { t, i18n } = useTranslation();
  const [duePage, setDuePage] = useState(1);
  const due = useLoad((signal) => getJson<Page<DueItem>>(`/disposition/due?page=${duePage}&pageSize=50`, signal), [duePage]);
  const batches = useLoad(
    (signal) => getJson<Page<BatchSummary>>('/disposition/batches?pageSize=20', signal).catch((err: unknown) => {
      // Older servers have no batch list; the console then opens batches by id.
      if (err instanceof ApiError && (err.status === 404 || err.status === 405)) return null;
      throw err;
    }),
    [],
  );
  const [selected, setSelected] = useState<string[]>([]);
  const [proposal, setProposal] = useState<Proposal>();
  const [error, setError] = useState<unknown>();
  const [openId, setOpenId] = useState('');
  // The opened batch is in the URL (`?batch=<id>`): a reload or a shared link shows it again, progress included.
  const { search, navigate } = useRouter();
  const opened = search.get('batch') ?? undefined;
  const setOpened = (id: string) => navigate(`/disposition?batch=${encodeURIComponent(id)}`, true, true);
  useShownClassifications([...(due.data?.items.map((d) => d.classification) ?? []), ...(proposal?.plan.map((p) => p.classification) ?? [])]);

  const toggle = (id: string) => setSelected((s) => (s.includes(id) ? s.filter((x) => x !== id) : [...s, id]));
  const propose = async () => {
    setError(undefined);
    try {
      const p = await sendJson<Proposal>('POST', '/disposition/batches', { documentIds: selected });
      setProposal(p);
      setSelected([]);
      due.reload();
      batches.reload();
    } catch (err) {
      setError(err);
    }
  };
  const open = (e: FormEvent) => {
    e.preventDefault();
    setOpened(openId.trim());
  };

  return (
    <section>
      <PageTitle>{t('disposition.title')}</PageTitle>
      <h2>{t('disposition.due')}</h2>
      <ErrorMessage error={due.error} />
      {due.data && due.data.items.length === 0 && <p>{t('disposition.noneDue')}</p>}
      {due.data && due.data.items.length > 0 && (
        <table data-testid="due-table">
          <thead>
            <tr>
              <th scope="col">{t('disposition.select')}</th>
              <th scope="col">{t('document.title')}</th>
              <th scope="col">{t('document.classification')}</th>
              <th scope="col">{t('series.code')}</th>
              <th scope="col">{t('series.disposition')}</th>
              <th scope="col">{t('disposition.date')}</th>
              <th scope="col">{t('disposition.reason')}</th>
            </tr>
          </thead>
          <tbody>
            {due.data.items.map((d) => (
              <tr key={d.documentId}>
                <td>
                  {d.openBatch ? (
                    <>
                      {/* Still due, but already in an open batch: it cannot be proposed again (the server would answer 409). */}
                      <input type="checkbox" checked={false} disabled aria-label={t('disposition.inBatchNamed', { title: d.title, id: d.openBatch.id.slice(0, 8) })} />{' '}
                      <button type="button" className="linklike" onClick={() => setOpened(d.openBatch!.id)}>
                        {t('disposition.inBatch', { id: d.openBatch.id.slice(0, 8), state: t(`batchState.${d.openBatch.state}`, { defaultValue: d.openBatch.state }) })}
                      </button>
                    </>
                  ) : (
                    <input
                      type="checkbox"
                      checked={selected.includes(d.documentId)}
                      onChange={() => toggle(d.documentId)}
                      aria-label={t('disposition.selectNamed', { title: d.title })}
                    />
                  )}
                </td>
                <td>
                  <Link to={`/documents/${d.documentId}`}>{d.title}</Link>
                </td>
                <td>
                  <ClassificationTag level={d.classification} />
                </td>
                <td>{d.seriesCode}</td>
                <td>{t(`series.${d.disposition}`)}</td>
                <td>{formatDate(d.dispositionDate, i18n.language)}</td>
                <td>{d.reason}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {due.data && typeof due.data.total === 'number' && due.data.total > due.data.pageSize && (
        <Pager page={due.data.page} pageSize={due.data.pageSize} total={due.data.total} onPage={setDuePage} />
      )}
      <button type="button" className="primary" disabled={!selected.length} onClick={() => void propose()}>
        {t('disposition.propose', { count: selected.length })}
      </button>
      <ErrorMessage error={error} />

      {proposal && (
        <section className="card" aria-labelledby="dry-run" data-testid="proposal">
          <h2 id="dry-run">{t('disposition.dryRun')}</h2>
          <p>
            {t('disposition.batchId')}: <code data-testid="proposal-id">{proposal.id}</code>
          </p>
          <p>
            {t('disposition.totals', {
              documents: proposal.totals.documents,
              versions: proposal.totals.versions,
              objects: proposal.totals.objects,
              dataKeys: proposal.totals.dataKeys,
              bytes: formatBytes(proposal.totals.bytes, i18n.language),
            })}
          </p>
          <p>{t('disposition.needsSecond')}</p>
        </section>
      )}

      <h2>{t('disposition.batches')}</h2>
      {batches.data && (
        <ul className="plain">
          {batches.data.items.map((b) => (
            <li key={b.id}>
              <button type="button" className="linklike" onClick={() => setOpened(b.id)}>
                {formatDateTime(b.proposedAt, i18n.language)} — {t(`batchState.${b.state}`, { defaultValue: b.state })} — {b.proposedBy}
                {typeof b.documents === 'number' && ` — ${t('disposition.documentCount', { count: b.documents })}`}
                {b.state === 'executing' && b.progress && ` — ${t('disposition.listProgress', { done: b.progress.destroyed + b.progress.extended + b.progress.skipped, total: b.progress.total })}`}
              </button>
            </li>
          ))}
        </ul>
      )}
      <form onSubmit={open} className="inline" aria-label={t('disposition.openById')}>
        <Field label={t('disposition.batchId')}>{(id) => <input id={id} value={openId} onChange={(e) => setOpenId(e.target.value)} />}</Field>
        <button type="submit">{t('disposition.open')}</button>
      </form>
      {opened && <Batch key={opened} id={opened} me={me} onChanged={() => (due.reload(), batches.reload())} />}
    </section>
  );
}

/** How often an executing batch is asked for again, and the longest pause after failures (doubling from the interval). */
const POLL_MS = 1_500;
const POLL_MAX_BACKOFF_MS = 30_000;

/** Statuses a later poll may get past (the server or the network); any other 4xx will not change by asking again. */
function transient(error: unknown): boolean {
  return !(error instanceof ApiError) || error.status === 0 || error.status === 408 || error.status === 429 || error.status >= 500;
}

/**
 * A batch, followed while it executes: asked for again every POLL_MS until it leaves `executing`,
 * backing off after failures; it stops when the batch completes or the component goes away.
 */
function useBatch(id: string, onFinished: () => void) {
  const [batch, setBatch] = useState<BatchView>();
  const [loadError, setLoadError] = useState<unknown>();
  const [pollError, setPollError] = useState<unknown>();
  const finished = useEffectEvent(onFinished);

  useEffect(() => {
    const ctl = new AbortController();
    getJson<BatchView>(`/disposition/batches/${encodeURIComponent(id)}`, ctl.signal).then(setBatch, (err: unknown) => !ctl.signal.aborted && setLoadError(err));
    return () => ctl.abort();
  }, [id]);

  const executing = batch?.state === 'executing';
  useEffect(() => {
    if (!executing) return;
    const ctl = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let failures = 0;
    const schedule = () => {
      timer = setTimeout(() => void poll(), Math.min(POLL_MS * 2 ** failures, POLL_MAX_BACKOFF_MS));
    };
    const poll = async () => {
      try {
        const next = await getJson<BatchView>(`/disposition/batches/${encodeURIComponent(id)}`, ctl.signal);
        if (ctl.signal.aborted) return;
        failures = 0;
        setPollError(undefined);
        setBatch(next);
        if (next.state !== 'executing') {
          finished();
          return;
        }
      } catch (err) {
        if (ctl.signal.aborted) return;
        setPollError(err);
        if (!transient(err)) return;
        failures++;
      }
      if (!ctl.signal.aborted) schedule();
    };
    schedule();
    return () => {
      ctl.abort();
      clearTimeout(timer);
    };
  }, [id, executing]);

  return { batch, setBatch, loadError, pollError };
}

function Batch({ id, me, onChanged }: { id: string; me: Me; onChanged: () => void }) {
  const { t, i18n } = useTranslation();
  const { batch: b, setBatch, loadError, pollError } = useBatch(id, onChanged);
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  if (loadError) return <ErrorMessage error={loadError} />;
  if (!b) return <p>{t('common.loading')}</p>;
  // Four eyes: the proposer may not approve their own batch (the server refuses too).
  const ownProposal = b.proposedBy === me.username;
  const approve = async () => {
    setBusy(true);
    setError(undefined);
    try {
      // Answered at once (202): a worker executes the batch, and this page follows its progress.
      setBatch(await sendJson<BatchView>('POST', `/disposition/batches/${b.id}/approve`, {}, { Prefer: 'respond-async' }));
      onChanged();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section className="card" aria-labelledby="batch-heading" data-testid="batch">
      <h3 id="batch-heading">
        {t('disposition.batch')} <code>{b.id}</code>
      </h3>
      <dl className="meta">
        <dt>{t('disposition.state')}</dt>
        <dd data-testid="batch-state">{t(`batchState.${b.state}`, { defaultValue: b.state })}</dd>
        <dt>{t('disposition.proposedBy')}</dt>
        <dd>
          {b.proposedBy} ({formatDateTime(b.proposedAt, i18n.language)})
        </dd>
        <dt>{t('disposition.approvedBy')}</dt>
        <dd>{b.approvedBy ? `${b.approvedBy} (${formatDateTime(b.approvedAt, i18n.language)})` : t('disposition.awaitingSecond')}</dd>
        <dt>{t('disposition.documents')}</dt>
        <dd>
          {b.items.length + (b.withheldItems ?? 0)}
          {(b.withheldItems ?? 0) > 0 && ` (${t('holds.withheld', { count: b.withheldItems })})`}
        </dd>
      </dl>
      {b.state === 'proposed' && (
        <>
          {ownProposal ? (
            <p className="notice">{t('disposition.ownProposal')}</p>
          ) : (
            <button type="button" className="primary" onClick={() => void approve()} disabled={busy}>
              {t('disposition.approve')}
            </button>
          )}
          {busy && <p role="status">{t('disposition.approving')}</p>}
        </>
      )}
      {b.progress && b.state !== 'proposed' && <BatchProgressBar state={b.state} progress={b.progress} />}
      <ErrorMessage error={error ?? pollError} />
      {b.certificate && (
        <div className="toolbar" role="group" aria-label={t('disposition.certificate')}>
          <span>{t('disposition.certificate')}:</span>
          <button type="button" onClick={() => void downloadVia(`/disposition/batches/${b.id}/certificate`, 'application/pdf', `certificate-${b.id}.pdf`).catch(setError)}>
            PDF
          </button>
          <button type="button" onClick={() => void downloadVia(`/disposition/batches/${b.id}/certificate`, 'application/json', `certificate-${b.id}.json`).catch(setError)} data-testid="certificate-json">
            JSON
          </button>
          <a href="/api/v1/keys/public" target="_blank" rel="noopener">
            {t('disposition.publicKey')}
          </a>
        </div>
      )}
    </section>
  );
}

/** How far a batch's execution is: destroyed + extended + skipped of all its records (withheld ones counted too). */
function BatchProgressBar({ state, progress }: { state: string; progress: BatchProgress }) {
  const { t } = useTranslation();
  const labelId = useId();
  const done = progress.destroyed + progress.extended + progress.skipped;
  const max = Math.max(progress.total, 1);
  return (
    <div className="batch-progress" data-testid="batch-progress">
      <span id={labelId}>{t('disposition.progress')}</span>
      <div
        className="meter"
        role="progressbar"
        aria-labelledby={labelId}
        aria-valuemin={0}
        aria-valuemax={progress.total}
        aria-valuenow={done}
        aria-valuetext={t('disposition.progressValue', { done, total: progress.total })}
      >
        <span className="meter-fill" style={{ width: `${(100 * Math.min(done, max)) / max}%` }} />
      </div>
      <p>
        {t('disposition.progressCounts', { done, total: progress.total, destroyed: progress.destroyed, extended: progress.extended, skipped: progress.skipped })}
      </p>
      {state === 'executing' && (
        <p role="status" data-testid="batch-worker">
          {progress.worker === 'running' ? t('disposition.workerRunning') : t('disposition.workerWaiting')}
        </p>
      )}
    </div>
  );
}
