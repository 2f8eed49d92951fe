import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { getJson, sendJson, type Me } from '../api';
import { ErrorMessage, Field, PageTitle, useLoad } from '../components';
import { formatDateTime } from '../i18n';

interface Entry {
  id: string;
  username: string;
  displayName: string;
  roles: string[];
  clearance: string;
  departments: string[];
  designations: string[];
  lastLoginAt: string | null;
  privilegesChangedAt: string;
  mustChangePassword: boolean;
}
interface Signoff {
  reviewerUsername: string;
  signedAt: string;
  comment: string | null;
  userCount: number;
  snapshotSha256: string;
}
interface Review {
  generatedAt: string;
  users: Entry[];
  snapshotSha256: string;
  lastSignoff: Signoff | null;
}

/** A.5.18 / A.9.2.5: who holds which privileges, and a reviewer's sign-off of that exact state. */
export function AccessReviewPage({ me }: { me: Me }) {
  const { t, i18n } = useTranslation();
  const review = useLoad((signal) => getJson<Review>('/reports/access-review', signal), []);
  const [comment, setComment] = useState('');
  const [error, setError] = useState<unknown>();
  const [signed, setSigned] = useState(false);
  const mayCreate = me.roles.includes('auditor') || me.roles.includes('admin');
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(undefined);
    try {
      await sendJson('POST', '/reports/access-review/signoffs', comment ? { comment } : {});
      setSigned(true);
      setComment('');
      review.reload();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <section>
      <PageTitle>{t('review.title')}</PageTitle>
      <ErrorMessage error={review.error} />
      {review.data && (
        <>
          <p>
            {t('review.generated', { at: formatDateTime(review.data.generatedAt, i18n.language), count: review.data.users.length })}{' '}
            <code className="hash">{review.data.snapshotSha256}</code>
          </p>
          <p data-testid="last-signoff">
            {review.data.lastSignoff
              ? t('review.lastSignoff', {
                  by: review.data.lastSignoff.reviewerUsername,
                  at: formatDateTime(review.data.lastSignoff.signedAt, i18n.language),
                  count: review.data.lastSignoff.userCount,
                })
              : t('review.noSignoff')}
          </p>
          <table>
            <thead>
              <tr>
                <th scope="col">{t('users.username')}</th>
                <th scope="col">{t('users.roles')}</th>
                <th scope="col">{t('users.clearance')}</th>
                <th scope="col">{t('users.departments')}</th>
                <th scope="col">{t('review.designations')}</th>
                <th scope="col">{t('users.lastLogin')}</th>
                <th scope="col">{t('review.privilegesChanged')}</th>
              </tr>
            </thead>
            <tbody>
              {review.data.users.map((u) => (
                <tr key={u.id}>
                  <td>{u.username}</td>
                  <td>{u.roles.map((r) => t(`role.${r}`)).join(', ')}</td>
                  <td>{t(`classification.${u.clearance}`)}</td>
                  <td>{u.departments.join(', ')}</td>
                  <td>{u.designations.length ? t('users.handler') : '—'}</td>
                  <td>{formatDateTime(u.lastLoginAt, i18n.language)}</td>
                  <td>{formatDateTime(u.privilegesChangedAt, i18n.language)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
      {mayCreate && (
        <form onSubmit={(e) => void submit(e)} className="stack card" aria-labelledby="signoff-heading">
          <h2 id="signoff-heading">{t('review.signoff')}</h2>
          <Field label={t('review.comment')}>{(id) => <textarea id={id} value={comment} onChange={(e) => setComment(e.target.value)} maxLength={4000} />}</Field>
          <ErrorMessage error={error} />
          {signed && <p role="status">{t('review.signed')}</p>}
          <button type="submit" className="primary">
            {t('review.signoffSubmit')}
          </button>
        </form>
      )}
    </section>
  );
}
