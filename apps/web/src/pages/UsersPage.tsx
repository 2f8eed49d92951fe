import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError, CLASSIFICATIONS, getJson, sendJson, type Me } from '../api';
import { ErrorMessage, Field, PageTitle, useLoad } from '../components';
import { formatDateTime } from '../i18n';

interface UserView {
  id: string;
  username: string;
  displayName: string;
  roles: string[];
  clearance: string;
  departments: string[];
  designations: string[];
  active: boolean;
  mustChangePassword: boolean;
  locked: boolean;
  lastLoginAt: string | null;
  /** Privileges that wait for a second administrator (four eyes). */
  pendingGrants?: Grant[];
}
interface Grant {
  id: string;
  username: string | null;
  privilege: 'role' | 'designation' | 'clearance';
  value: string;
  status: string;
  requestedByUsername: string;
  requestedAt: string;
  expiresAt: string;
}
const ROLES = ['staff', 'records_officer', 'auditor', 'admin'];

export function UsersPage({ me }: { me: Me }) {
  const { t, i18n } = useTranslation();
  const users = useLoad((signal) => getJson<{ items: UserView[] } | UserView[]>('/users', signal), []);
  const [error, setError] = useState<unknown>();
  const [editing, setEditing] = useState<UserView>();
  const list = Array.isArray(users.data) ? users.data : (users.data?.items ?? []);
  const deactivate = async (u: UserView) => {
    setError(undefined);
    try {
      await sendJson('POST', `/users/${u.id}/deactivate`);
      users.reload();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <section>
      <PageTitle>{t('users.title')}</PageTitle>
      <ErrorMessage error={users.error ?? error} />
      <table data-testid="users-table">
        <thead>
          <tr>
            <th scope="col">{t('users.username')}</th>
            <th scope="col">{t('users.displayName')}</th>
            <th scope="col">{t('users.roles')}</th>
            <th scope="col">{t('users.clearance')}</th>
            <th scope="col">{t('users.departments')}</th>
            <th scope="col">{t('users.state')}</th>
            <th scope="col">{t('users.lastLogin')}</th>
            <th scope="col">{t('common.actions')}</th>
          </tr>
        </thead>
        <tbody>
          {list.map((u) => (
            <tr key={u.id}>
              <td>{u.username}</td>
              <td>{u.displayName}</td>
              <td>{u.roles.map((r) => t(`role.${r}`)).join(', ')}</td>
              <td>{t(`classification.${u.clearance}`)}</td>
              <td>{u.departments.join(', ')}</td>
              <td>
                {u.active ? t('users.active') : t('users.inactive')}
                {u.mustChangePassword && ` · ${t('users.mustChange')}`}
                {u.locked && ` · ${t('users.locked')}`}
                {(u.pendingGrants?.length ?? 0) > 0 && ` · ${t('grants.pendingCount', { count: u.pendingGrants!.length })}`}
              </td>
              <td>{formatDateTime(u.lastLoginAt, i18n.language)}</td>
              <td>
                {u.id !== me.id && (
                  <button type="button" onClick={() => setEditing(u)} aria-label={t('users.editNamed', { name: u.username })}>
                    {t('users.edit')}
                  </button>
                )}{' '}
                {u.active && u.id !== me.id && (
                  <button type="button" onClick={() => void deactivate(u)} aria-label={t('users.deactivateNamed', { name: u.username })}>
                    {t('users.deactivate')}
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <PendingGrants me={me} onDecided={users.reload} />
      {editing && <EditUserForm key={editing.id} user={editing} onDone={() => (setEditing(undefined), users.reload())} />}
      <CreateUserForm onDone={users.reload} />
    </section>
  );
}

function temporaryPassword(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return `Tmp-${btoa(String.fromCharCode(...bytes)).replace(/[+/=]/g, '')}`;
}

function CreateUserForm({ onDone }: { onDone: () => void }) {
  const { t } = useTranslation();
  const [f, setF] = useState({ username: '', displayName: '', password: temporaryPassword(), clearance: 'INTERNAL', departments: '' });
  const [roles, setRoles] = useState<string[]>(['staff']);
  const [handler, setHandler] = useState(false);
  const [error, setError] = useState<unknown>();
  const [created, setCreated] = useState<{ username: string; password: string }>();
  const set = (k: keyof typeof f) => (e: { target: { value: string } }) => setF({ ...f, [k]: e.target.value });
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(undefined);
    setCreated(undefined);
    try {
      await sendJson('POST', '/users', {
        username: f.username,
        displayName: f.displayName,
        password: f.password,
        roles,
        clearance: f.clearance,
        departments: f.departments.split(/[\s,]+/).filter(Boolean),
        designations: handler ? ['mynumber_handler'] : [],
      });
      setCreated({ username: f.username, password: f.password });
      setF({ username: '', displayName: '', password: temporaryPassword(), clearance: 'INTERNAL', departments: '' });
      onDone();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <form onSubmit={(e) => void submit(e)} className="stack card" aria-labelledby="user-new">
      <h2 id="user-new">{t('users.new')}</h2>
      <div className="grid">
        <Field label={t('users.username')}>{(id) => <input id={id} value={f.username} onChange={set('username')} required autoComplete="off" />}</Field>
        <Field label={t('users.displayName')}>{(id) => <input id={id} value={f.displayName} onChange={set('displayName')} required />}</Field>
        <Field label={t('users.temporaryPassword')} hint={t('users.temporaryHint')}>
          {(id) => <input id={id} value={f.password} onChange={set('password')} required autoComplete="off" />}
        </Field>
        <Field label={t('users.clearance')}>
          {(id) => (
            <select id={id} value={f.clearance} onChange={set('clearance')}>
              {CLASSIFICATIONS.map((c) => (
                <option key={c} value={c}>
                  {t(`classification.${c}`)}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label={t('users.departments')} hint={t('users.departmentsHint')}>
          {(id) => <input id={id} value={f.departments} onChange={set('departments')} required />}
        </Field>
      </div>
      <fieldset>
        <legend>{t('users.roles')}</legend>
        {ROLES.map((r) => (
          <label key={r} className="check">
            <input type="checkbox" checked={roles.includes(r)} onChange={() => setRoles((rs) => (rs.includes(r) ? rs.filter((x) => x !== r) : [...rs, r]))} />
            {t(`role.${r}`)}
          </label>
        ))}
        <label className="check">
          <input type="checkbox" checked={handler} onChange={() => setHandler((h) => !h)} />
          {t('users.handler')}
        </label>
      </fieldset>
      <ErrorMessage error={error} />
      {created && (
        <p role="status" data-testid="user-created">
          {t('users.created', { username: created.username })} <code>{created.password}</code>
        </p>
      )}
      <button type="submit" className="primary">
        {t('users.create')}
      </button>
    </form>
  );
}

/** Privilege changes end the user's sessions (server side); some may wait for a second administrator. */
function EditUserForm({ user, onDone }: { user: UserView; onDone: () => void }) {
  const { t } = useTranslation();
  const [roles, setRoles] = useState<string[]>(user.roles);
  const [clearance, setClearance] = useState(user.clearance);
  const [departments, setDepartments] = useState(user.departments.join(', '));
  const [handler, setHandler] = useState(user.designations.includes('mynumber_handler'));
  const [reset, setReset] = useState<string>();
  const [error, setError] = useState<unknown>();
  const [saved, setSaved] = useState<string>();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(undefined);
    setSaved(undefined);
    const patch: Record<string, unknown> = {};
    if (roles.join() !== user.roles.join()) patch.roles = roles;
    if (clearance !== user.clearance) patch.clearance = clearance;
    const deps = departments.split(/[\s,]+/).filter(Boolean);
    if (deps.join() !== user.departments.join()) patch.departments = deps;
    if (handler !== user.designations.includes('mynumber_handler')) patch.designations = handler ? ['mynumber_handler'] : [];
    if (reset) patch.password = reset;
    if (!Object.keys(patch).length) return;
    try {
      await sendJson('PATCH', `/users/${user.id}`, patch);
      setSaved(reset ? t('users.resetDone', { password: reset }) : t('edit.saved'));
      if (!reset) onDone();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <form onSubmit={(e) => void submit(e)} className="stack card" aria-labelledby="user-edit">
      <h2 id="user-edit">{t('users.editTitle', { name: user.username })}</h2>
      <div className="grid">
        <Field label={t('users.clearance')}>
          {(id) => (
            <select id={id} value={clearance} onChange={(e) => setClearance(e.target.value)}>
              {CLASSIFICATIONS.map((c) => (
                <option key={c} value={c}>
                  {t(`classification.${c}`)}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label={t('users.departments')} hint={t('users.departmentsHint')}>
          {(id) => <input id={id} value={departments} onChange={(e) => setDepartments(e.target.value)} />}
        </Field>
      </div>
      <fieldset>
        <legend>{t('users.roles')}</legend>
        {ROLES.map((r) => (
          <label key={r} className="check">
            <input type="checkbox" checked={roles.includes(r)} onChange={() => setRoles((rs) => (rs.includes(r) ? rs.filter((x) => x !== r) : [...rs, r]))} />
            {t(`role.${r}`)}
          </label>
        ))}
        <label className="check">
          <input type="checkbox" checked={handler} onChange={() => setHandler((h) => !h)} />
          {t('users.handler')}
        </label>
      </fieldset>
      <p>
        <button type="button" onClick={() => setReset(temporaryPassword())}>
          {t('users.reset')}
        </button>{' '}
        {reset && <small>{t('users.resetPending')}</small>}
      </p>
      <ErrorMessage error={error} />
      {saved && (
        <p role="status" data-testid="user-saved">
          {saved}
        </p>
      )}
      <button type="submit" className="primary">
        {t('edit.save')}
      </button>{' '}
      <button type="button" onClick={onDone}>
        {t('users.close')}
      </button>
    </form>
  );
}

/** Four eyes on privileges: another administrator approves or rejects what one requested. */
function PendingGrants({ me, onDecided }: { me: Me; onDecided: () => void }) {
  const { t, i18n } = useTranslation();
  const grants = useLoad(
    (signal) =>
      getJson<{ items: Grant[] }>('/users/grants?status=pending', signal).catch((err: unknown) => {
        // Servers without privilege grants: nothing to show.
        if (err instanceof ApiError && (err.status === 404 || err.status === 400)) return { items: [] };
        throw err;
      }),
    [],
  );
  const [error, setError] = useState<unknown>();
  const decide = async (g: Grant, decision: 'approve' | 'reject') => {
    setError(undefined);
    try {
      await sendJson('POST', `/users/grants/${g.id}/${decision}`, {});
      grants.reload();
      onDecided();
    } catch (err) {
      setError(err);
    }
  };
  if (!grants.data?.items.length && !grants.error) return null;
  return (
    <section className="card" aria-labelledby="grants-heading">
      <h2 id="grants-heading">{t('grants.title')}</h2>
      <ErrorMessage error={grants.error ?? error} />
      <table data-testid="grants-table">
        <thead>
          <tr>
            <th scope="col">{t('users.username')}</th>
            <th scope="col">{t('grants.privilege')}</th>
            <th scope="col">{t('grants.requestedBy')}</th>
            <th scope="col">{t('grants.expires')}</th>
            <th scope="col">{t('common.actions')}</th>
          </tr>
        </thead>
        <tbody>
          {grants.data?.items.map((g) => (
            <tr key={g.id}>
              <td>{g.username ?? '—'}</td>
              <td>
                {t(`grants.kind.${g.privilege}`)}: {g.privilege === 'role' ? t(`role.${g.value}`, { defaultValue: g.value }) : g.privilege === 'clearance' ? t(`classification.${g.value}`, { defaultValue: g.value }) : t('users.handler')}
              </td>
              <td>
                {g.requestedByUsername} ({formatDateTime(g.requestedAt, i18n.language)})
              </td>
              <td>{formatDateTime(g.expiresAt, i18n.language)}</td>
              <td>
                {g.requestedByUsername === me.username ? (
                  <small>{t('grants.ownRequest')}</small>
                ) : (
                  <>
                    <button type="button" onClick={() => void decide(g, 'approve')} aria-label={t('grants.approveNamed', { name: g.username })}>
                      {t('grants.approve')}
                    </button>{' '}
                    <button type="button" onClick={() => void decide(g, 'reject')} aria-label={t('grants.rejectNamed', { name: g.username })}>
                      {t('grants.reject')}
                    </button>
                  </>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
