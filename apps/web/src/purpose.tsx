import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError, getJson, type Purpose } from './api';
import { ErrorMessage, useLoad } from './components';

export function purposeName(p: Purpose | undefined, code: string, language: string): string {
  if (!p) return code;
  return language.startsWith('ja') ? p.nameJa : p.nameEn;
}

/**
 * Asks a My Number handler why they open a `specific` document (番号法 利用目的), before
 * anything is read: a modal dialog (focus kept inside, Escape cancels) listing the server's
 * active purposes. The chosen code is sent as `X-Purpose`; a refusal is shown here.
 */
export function PurposeDialog({ title, refusal, onChoose, onCancel }: { title?: string; refusal?: unknown; onChoose: (code: string) => void; onCancel: () => void }) {
  const { t, i18n } = useTranslation();
  const ref = useRef<HTMLDialogElement>(null);
  const headingId = useId();
  const textId = useId();
  const purposes = useLoad((signal) => getJson<{ items: Purpose[] }>('/mynumber/purposes', signal), []);
  const [code, setCode] = useState('');
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
    return () => dialog?.close();
  }, []);
  const active = purposes.data?.items.filter((p) => !p.retired) ?? [];
  const permitted = refusal instanceof ApiError && Array.isArray(refusal.problem.permittedPurposes) ? (refusal.problem.permittedPurposes as string[]) : null;
  const byCode = new Map(purposes.data?.items.map((p) => [p.code, p]));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (code) onChoose(code);
  };
  return (
    <dialog
      ref={ref}
      className="purpose-dialog"
      aria-labelledby={headingId}
      aria-describedby={textId}
      data-testid="purpose-dialog"
      onCancel={(e) => {
        e.preventDefault();
        onCancel();
      }}
    >
      <form onSubmit={submit} className="stack">
        <h2 id={headingId}>{t('purpose.title')}</h2>
        <p id={textId}>{title ? t('purpose.explainNamed', { title }) : t('purpose.explain')}</p>
        {refusal !== undefined && <ErrorMessage error={refusal} />}
        {permitted && (
          <p data-testid="permitted-purposes">
            {permitted.length ? t('purpose.permitted', { list: permitted.map((c) => purposeName(byCode.get(c), c, i18n.language)).join(t('purpose.separator')) }) : t('purpose.nonePermitted')}
          </p>
        )}
        <ErrorMessage error={purposes.error} />
        {purposes.data && (
          <fieldset>
            <legend>{t('purpose.legend')}</legend>
            {active.length === 0 && <p>{t('purpose.none')}</p>}
            {active.map((p, i) => (
              <label key={p.code} className="choice">
                <input type="radio" name="purpose" value={p.code} checked={code === p.code} onChange={() => setCode(p.code)} required autoFocus={i === 0} />{' '}
                {purposeName(p, p.code, i18n.language)} <code>{p.code}</code>
              </label>
            ))}
          </fieldset>
        )}
        <div className="actions">
          <button type="submit" className="primary" disabled={!active.length}>
            {t('purpose.submit')}
          </button>{' '}
          <button type="button" onClick={onCancel}>
            {t('purpose.cancel')}
          </button>
        </div>
      </form>
    </dialog>
  );
}
