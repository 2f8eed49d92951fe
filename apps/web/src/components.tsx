import { createContext, useCallback, useContext, useEffect, useId, useMemo, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError, CLASSIFICATIONS, type Classification } from './api';

// ---------------------------------------------------------------- classification banner

/** As on the stamped PDFs: the Japanese mark and the English level name. */
export const CLASSIFICATION_LABEL: Record<Classification, string> = {
  PUBLIC: '公開 PUBLIC',
  INTERNAL: '社外秘 INTERNAL',
  CONFIDENTIAL: '秘 CONFIDENTIAL',
  SECRET: '極秘 SECRET',
};

interface BannerState {
  highest: Classification | null;
  report: (key: string, levels: Classification[]) => void;
}
const BannerContext = createContext<BannerState>({ highest: null, report: () => undefined });

export function BannerProvider({ children }: { children: ReactNode }) {
  const [shown, setShown] = useState<Record<string, Classification[]>>({});
  const report = useCallback((key: string, levels: Classification[]) => {
    setShown((prev) => {
      const before = prev[key] ?? [];
      if (before.length === levels.length && before.every((l, i) => l === levels[i])) return prev;
      const next = { ...prev };
      if (levels.length) next[key] = levels;
      else delete next[key];
      return next;
    });
  }, []);
  const highest = useMemo(() => {
    let max = -1;
    for (const levels of Object.values(shown)) for (const l of levels) max = Math.max(max, CLASSIFICATIONS.indexOf(l));
    return max >= 0 ? CLASSIFICATIONS[max] : null;
  }, [shown]);
  return <BannerContext.Provider value={{ highest, report }}>{children}</BannerContext.Provider>;
}

/** A page declares the classifications it shows; the banner shows the highest of all. */
export function useShownClassifications(levels: Array<Classification | undefined | null>): void {
  const { report } = useContext(BannerContext);
  const key = useId();
  const list = levels.filter((l): l is Classification => Boolean(l)).sort();
  const joined = list.join(',');
  useEffect(() => {
    report(key, joined ? (joined.split(',') as Classification[]) : []);
  }, [key, joined, report]);
  useEffect(() => () => report(key, []), [key, report]);
}

export function ClassificationBanner({ position }: { position: 'top' | 'bottom' }) {
  const { highest } = useContext(BannerContext);
  const { t } = useTranslation();
  if (!highest) return null;
  return (
    <div className={`banner banner-${highest.toLowerCase()}`} data-testid={`banner-${position}`} role={position === 'top' ? 'status' : undefined}>
      <strong>{CLASSIFICATION_LABEL[highest]}</strong>
      {position === 'top' && <span className="banner-note"> — {t('banner.highest')}</span>}
    </div>
  );
}

export function ClassificationTag({ level }: { level: Classification }) {
  return <span className={`tag tag-${level.toLowerCase()}`}>{CLASSIFICATION_LABEL[level]}</span>;
}

// ---------------------------------------------------------------- errors

/** problem+json `detail` (the server answers in the requested language) with a local explanation where we have one. */
export function ErrorMessage({ error }: { error: unknown }) {
  const { t } = useTranslation();
  if (!error) return null;
  let text: string;
  let fields: Array<{ field: string; messages: string[] }> = [];
  if (error instanceof ApiError) {
    const known = `problem.${error.status}`;
    const explanation = t(known, { defaultValue: '' });
    text = [explanation, error.problem.detail].filter(Boolean).join(' ');
    if (!text) text = t('problem.generic', { status: error.status });
    fields = error.problem.errors ?? [];
  } else {
    text = error instanceof Error ? error.message : String(error);
  }
  return (
    <div className="error" role="alert">
      <p>{text}</p>
      {fields.length > 0 && (
        <ul>
          {fields.map((f) => (
            <li key={f.field}>
              <code>{f.field}</code>: {f.messages.join('; ')}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

// ---------------------------------------------------------------- data loading

export function useLoad<T>(load: (signal: AbortSignal) => Promise<T>, deps: unknown[]): { data: T | undefined; error: unknown; loading: boolean; reload: () => void } {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({ data: undefined, error: undefined, loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const ctl = new AbortController();
    setState((s) => ({ ...s, loading: true, error: undefined }));
    load(ctl.signal).then(
      (data) => !ctl.signal.aborted && setState({ data, error: undefined, loading: false }),
      (error: unknown) => !ctl.signal.aborted && setState({ data: undefined, error, loading: false }),
    );
    return () => ctl.abort();
  }, [...deps, tick]);
  return { ...state, reload: () => setTick((n) => n + 1) };
}

// ---------------------------------------------------------------- small pieces

export function Field({ label, children, hint }: { label: string; children: (id: string) => ReactNode; hint?: string }) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children(id)}
      {hint && <small>{hint}</small>}
    </div>
  );
}

export function Pager({ page, pageSize, total, onPage }: { page: number; pageSize: number; total: number; onPage: (p: number) => void }) {
  const { t } = useTranslation();
  const pages = Math.max(1, Math.ceil(total / pageSize));
  return (
    <nav className="pager" aria-label={t('pager.label')}>
      <button type="button" disabled={page <= 1} onClick={() => onPage(page - 1)}>
        {t('pager.previous')}
      </button>
      <span aria-live="polite">{t('pager.status', { page, pages, total })}</span>
      <button type="button" disabled={page >= pages} onClick={() => onPage(page + 1)}>
        {t('pager.next')}
      </button>
    </nav>
  );
}

export function PageTitle({ children }: { children: ReactNode }) {
  useEffect(() => {
    if (typeof children === 'string') document.title = `${children} — Kura`;
  }, [children]);
  return <h1 tabIndex={-1}>{children}</h1>;
}
