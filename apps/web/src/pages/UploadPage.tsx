import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError, CLASSIFICATIONS, upload, type Classification, type DocumentView, type Me } from '../api';
import { ErrorMessage, Field, PageTitle, useShownClassifications } from '../components';
import { formatBytes } from '../i18n';
import { Link } from '../router';

interface Item {
  file: File;
  title: string;
  progress: number;
  state: 'waiting' | 'uploading' | 'done' | 'failed';
  error?: unknown;
  document?: DocumentView;
}

export function UploadPage({ me }: { me: Me }) {
  const { t, i18n } = useTranslation();
  const allowed = CLASSIFICATIONS.slice(0, CLASSIFICATIONS.indexOf(me.clearance) + 1);
  const [items, setItems] = useState<Item[]>([]);
  const [kind, setKind] = useState('record');
  const [classification, setClassification] = useState<Classification>(allowed.includes('INTERNAL') ? 'INTERNAL' : 'PUBLIC');
  const [department, setDepartment] = useState(me.departments[0] ?? '');
  const [tags, setTags] = useState('');
  const [personalData, setPersonalData] = useState('none');
  const [reviewDueAt, setReviewDueAt] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  useShownClassifications([classification]);

  const update = (i: number, patch: Partial<Item>) => setItems((prev) => prev.map((it, j) => (j === i ? { ...it, ...patch } : it)));

  const choose = (files: FileList | null) => {
    setItems(Array.from(files ?? []).map((file) => ({ file, title: file.name.replace(/\.[^.]+$/, ''), progress: 0, state: 'waiting' })));
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(undefined);
    if (!items.length) {
      setError(new Error(t('upload.noFiles')));
      return;
    }
    setBusy(true);
    // One at a time: each file gets its own request, progress bar and result.
    for (let i = 0; i < items.length; i++) {
      if (items[i].state === 'done') continue;
      const form = new FormData();
      // Metadata before the file part, so the server can refuse early.
      form.append('title', items[i].title);
      form.append('kind', kind);
      form.append('classification', classification);
      form.append('department', department);
      for (const tag of tags.split(',').map((s) => s.trim()).filter(Boolean)) form.append('tags', tag);
      form.append('personalData', personalData);
      if (reviewDueAt) form.append('reviewDueAt', new Date(`${reviewDueAt}T00:00:00`).toISOString());
      form.append('file', items[i].file, items[i].file.name);
      update(i, { state: 'uploading', progress: 0, error: undefined });
      try {
        const { body } = await upload('/documents', form, (p) => update(i, { progress: p })).promise;
        update(i, { state: 'done', progress: 1, document: body as DocumentView });
      } catch (err) {
        update(i, { state: 'failed', error: err });
        if (err instanceof ApiError && err.status === 401) break;
      }
    }
    setBusy(false);
  };

  return (
    <section>
      <PageTitle>{t('upload.title')}</PageTitle>
      <form onSubmit={(e) => void submit(e)} className="stack">
        <Field label={t('upload.files')} hint={t('upload.filesHint')}>
          {(id) => <input id={id} type="file" multiple onChange={(e) => choose(e.target.files)} data-testid="upload-files" />}
        </Field>
        {items.length > 0 && (
          <ul className="uploads" aria-label={t('upload.queue')}>
            {items.map((it, i) => (
              <li key={`${it.file.name}-${i}`} className={`upload-${it.state}`}>
                <Field label={t('upload.titleFor', { name: it.file.name })}>
                  {(id) => <input id={id} value={it.title} onChange={(e) => update(i, { title: e.target.value })} required maxLength={500} disabled={it.state === 'done'} />}
                </Field>
                <div className="progress-row">
                  <progress max={1} value={it.progress} aria-label={t('upload.progressFor', { name: it.file.name })} />
                  <span>
                    {formatBytes(it.file.size, i18n.language)} · {t(`upload.state.${it.state}`)}
                  </span>
                  {it.document && <Link to={`/documents/${it.document.id}`}>{t('upload.open')}</Link>}
                </div>
                <ErrorMessage error={it.error} />
              </li>
            ))}
          </ul>
        )}
        <fieldset>
          <legend>{t('upload.metadata')}</legend>
          <div className="grid">
            <Field label={t('document.kind')}>
              {(id) => (
                <select id={id} value={kind} onChange={(e) => setKind(e.target.value)}>
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
                <select id={id} value={classification} onChange={(e) => setClassification(e.target.value as Classification)}>
                  {allowed.map((c) => (
                    <option key={c} value={c}>
                      {t(`classification.${c}`)}
                    </option>
                  ))}
                </select>
              )}
            </Field>
            <Field label={t('document.department')}>
              {(id) => (
                <select id={id} value={department} onChange={(e) => setDepartment(e.target.value)}>
                  {me.departments.map((d) => (
                    <option key={d} value={d}>
                      {d}
                    </option>
                  ))}
                </select>
              )}
            </Field>
            <Field label={t('document.tags')} hint={t('upload.tagsHint')}>
              {(id) => <input id={id} value={tags} onChange={(e) => setTags(e.target.value)} />}
            </Field>
            <Field label={t('document.personalData')}>
              {(id) => (
                <select id={id} value={personalData} onChange={(e) => setPersonalData(e.target.value)}>
                  {['none', 'personal', ...(me.designations.includes('mynumber_handler') ? ['specific'] : [])].map((p) => (
                    <option key={p} value={p}>
                      {t(`personalData.${p}`)}
                    </option>
                  ))}
                </select>
              )}
            </Field>
            <Field label={t('document.reviewDueAt')}>
              {(id) => <input id={id} type="date" value={reviewDueAt} onChange={(e) => setReviewDueAt(e.target.value)} />}
            </Field>
          </div>
        </fieldset>
        <ErrorMessage error={error} />
        <button type="submit" className="primary" disabled={busy}>
          {t('upload.submit')}
        </button>
      </form>
    </section>
  );
}
