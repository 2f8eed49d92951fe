import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { sendJson } from '../api';
import { ErrorMessage, Field, PageTitle } from '../components';

export function ChangePasswordPage({ forced = false, onChanged }: { forced?: boolean; onChanged: () => Promise<void> }) {
  const { t } = useTranslation();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [confirm, setConfirm] = useState('');
  const [error, setError] = useState<unknown>();
  const [done, setDone] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(undefined);
    if (next !== confirm) {
      setError(new Error(t('password.mismatch')));
      return;
    }
    try {
      await sendJson('POST', '/auth/password', { currentPassword: current, newPassword: next });
      setDone(true);
      await onChanged();
    } catch (err) {
      setError(err);
    }
  };

  return (
    <section className="narrow">
      <PageTitle>{t('password.title')}</PageTitle>
      {forced && <p className="notice">{t('password.forced')}</p>}
      <p>{t('password.policy')}</p>
      <form onSubmit={(e) => void submit(e)}>
        <Field label={t('password.current')}>
          {(id) => <input id={id} type="password" autoComplete="current-password" value={current} onChange={(e) => setCurrent(e.target.value)} required />}
        </Field>
        <Field label={t('password.new')}>
          {(id) => <input id={id} type="password" autoComplete="new-password" value={next} onChange={(e) => setNext(e.target.value)} required />}
        </Field>
        <Field label={t('password.confirm')}>
          {(id) => <input id={id} type="password" autoComplete="new-password" value={confirm} onChange={(e) => setConfirm(e.target.value)} required />}
        </Field>
        <ErrorMessage error={error} />
        {done && <p role="status">{t('password.changed')}</p>}
        <button type="submit" className="primary">
          {t('password.submit')}
        </button>
      </form>
    </section>
  );
}
