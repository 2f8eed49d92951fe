import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { sendJson } from '../api';
import { ErrorMessage, Field, PageTitle } from '../components';
import { useRouter } from '../router';

export function LoginPage({ onLoggedIn }: { onLoggedIn: () => Promise<void> }) {
  const { t } = useTranslation();
  const { search, navigate } = useRouter();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      // `session: cookie`: the server keeps the token in an HttpOnly cookie; this page never holds it.
      await sendJson('POST', '/auth/login', { username, password, session: 'cookie' });
      const next = search.get('next');
      await onLoggedIn();
      if (next && next.startsWith('/') && !next.startsWith('//')) navigate(next, true);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="narrow">
      <PageTitle>{t('auth.title')}</PageTitle>
      <form onSubmit={(e) => void submit(e)}>
        <Field label={t('auth.username')}>
          {(id) => <input id={id} name="username" autoComplete="username" value={username} onChange={(e) => setUsername(e.target.value)} required />}
        </Field>
        <Field label={t('auth.password')}>
          {(id) => (
            <input id={id} name="password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} required />
          )}
        </Field>
        <ErrorMessage error={error} />
        <button type="submit" className="primary" disabled={busy}>
          {t('auth.login')}
        </button>
      </form>
    </section>
  );
}
