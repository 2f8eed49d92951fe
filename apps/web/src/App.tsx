import { useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError, getJson, sendJson, setUnauthenticatedHandler, type Me } from './api';
import { BannerProvider, ClassificationBanner } from './components';
import { changeLanguage, setJapaneseEra, usesJapaneseEra, type Language } from './i18n';
import { Link, match, Router, useRouter } from './router';
import { AccessReviewPage } from './pages/AccessReviewPage';
import { AuditPage } from './pages/AuditPage';
import { ChangePasswordPage } from './pages/ChangePasswordPage';
import { DispositionPage } from './pages/DispositionPage';
import { DocumentPage } from './pages/DocumentPage';
import { DocumentsPage } from './pages/DocumentsPage';
import { HoldsPage } from './pages/HoldsPage';
import { LoginPage } from './pages/LoginPage';
import { SeriesPage } from './pages/SeriesPage';
import { UploadPage } from './pages/UploadPage';
import { UsersPage } from './pages/UsersPage';

type Role = Me['roles'][number];
interface NavItem {
  to: string;
  key: string;
  roles: Role[];
}
const NAV: NavItem[] = [
  { to: '/documents', key: 'nav.documents', roles: ['staff', 'records_officer', 'auditor'] },
  { to: '/documents/new', key: 'nav.upload', roles: ['staff'] },
  { to: '/series', key: 'nav.series', roles: ['records_officer', 'auditor'] },
  { to: '/holds', key: 'nav.holds', roles: ['records_officer', 'auditor'] },
  { to: '/disposition', key: 'nav.disposition', roles: ['records_officer'] },
  { to: '/audit', key: 'nav.audit', roles: ['auditor'] },
  { to: '/users', key: 'nav.users', roles: ['admin'] },
  { to: '/access-review', key: 'nav.review', roles: ['auditor', 'admin'] },
];

/** Where each role starts after login. */
export function homeFor(me: Me): string {
  if (me.roles.includes('staff')) return '/documents';
  if (me.roles.includes('records_officer')) return '/disposition';
  if (me.roles.includes('auditor')) return '/audit';
  if (me.roles.includes('admin')) return '/users';
  return '/documents';
}

export function App() {
  return (
    <Router>
      <BannerProvider>
        <Shell />
      </BannerProvider>
    </Router>
  );
}

function Shell() {
  const { t, i18n } = useTranslation();
  const { path, navigate } = useRouter();
  const [me, setMe] = useState<Me | null | undefined>(undefined);

  const loadMe = useCallback(async () => {
    try {
      setMe(await getJson<Me>('/auth/me'));
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) setMe(null);
      else throw err;
    }
  }, []);

  useEffect(() => {
    setUnauthenticatedHandler(() => setMe(null));
    void loadMe();
  }, [loadMe]);

  useEffect(() => {
    if (me === null && path !== '/login') navigate(`/login${path !== '/' ? `?next=${encodeURIComponent(path)}` : ''}`, true);
    if (me && (path === '/' || path === '/login')) navigate(homeFor(me), true);
  }, [me, path, navigate]);

  const logout = async () => {
    await sendJson('POST', '/auth/logout').catch(() => undefined);
    setMe(null);
  };

  if (me === undefined) return <p className="loading">{t('common.loading')}</p>;

  const language = (
    <div className="language">
      <label htmlFor="language-select">{t('language.label')}</label>
      <select id="language-select" value={i18n.language} onChange={(e) => changeLanguage(e.target.value as Language)}>
        <option value="ja">日本語</option>
        <option value="en">English</option>
      </select>
      {i18n.language === 'ja' && (
        <label className="check">
          <input type="checkbox" checked={usesJapaneseEra()} onChange={(e) => setJapaneseEra(e.target.checked)} />
          和暦
        </label>
      )}
    </div>
  );

  if (!me) {
    return (
      <>
        <header className="topbar">
          <span className="brand">{t('app.name')}</span>
          {language}
        </header>
        <main id="main">
          <LoginPage onLoggedIn={loadMe} />
        </main>
      </>
    );
  }

  const nav = NAV.filter((n) => n.roles.some((r) => me.roles.includes(r)));
  return (
    <>
      <a className="skip" href="#main">
        {t('app.skip')}
      </a>
      <header className="topbar">
        <span className="brand">{t('app.name')}</span>
        {!me.mustChangePassword && (
          <nav aria-label={t('nav.label')}>
            <ul>
              {nav.map((n) => (
                <li key={n.to}>
                  <Link to={n.to} aria-current={path === n.to ? 'page' : undefined}>
                    {t(n.key)}
                  </Link>
                </li>
              ))}
            </ul>
          </nav>
        )}
        {language}
        <div className="user">
          <span data-testid="whoami">
            {me.displayName} ({me.roles.map((r) => t(`role.${r}`)).join(', ')})
          </span>
          <button type="button" onClick={() => void logout()}>
            {t('auth.logout')}
          </button>
        </div>
      </header>
      <ClassificationBanner position="top" />
      <main id="main">{me.mustChangePassword ? <ChangePasswordPage forced onChanged={loadMe} /> : <Page me={me} />}</main>
      <footer>
        <ClassificationBanner position="bottom" />
      </footer>
    </>
  );
}

function Page({ me }: { me: Me }) {
  const { path } = useRouter();
  const { t } = useTranslation();
  if (path === '/documents') return <DocumentsPage me={me} />;
  if (path === '/documents/new') return <UploadPage me={me} />;
  const doc = match('/documents/:id', path);
  if (doc) return <DocumentPage id={doc.id} me={me} />;
  if (path === '/series') return <SeriesPage me={me} />;
  if (path === '/holds') return <HoldsPage me={me} />;
  if (path === '/disposition') return <DispositionPage me={me} />;
  if (path === '/audit') return <AuditPage />;
  if (path === '/users') return <UsersPage me={me} />;
  if (path === '/access-review') return <AccessReviewPage me={me} />;
  if (path === '/password') return <ChangePasswordPage onChanged={async () => undefined} />;
  return (
    <section>
      <h1>{t('notFound.title')}</h1>
      <p>
        <Link to={homeFor(me)}>{t('notFound.home')}</Link>
      </p>
    </section>
  );
}
