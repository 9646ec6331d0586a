import { useState } from 'preact/hooks';
import { endUserSession, getUser, listUserSessions, revokeUserGrants, updateUser } from '../api/users';
import type { User } from '../api/types';
import { ConfirmButton } from '../components/confirm-button';
import { Field } from '../components/field';
import { RolePicker } from '../components/role-picker';
import { formatTime } from '../components/format';
import { Link } from '../components/link';
import { Async, Empty, ErrorMessage } from '../components/status';
import { useAction } from '../components/use-action';
import { useAsync } from '../components/use-async';

/** One user: edit, disable or enable, login sessions (end one), grants (revoke all). */
export function UserPage({ id }: { id: string }) {
  const [user, reload] = useAsync(() => getUser(id), [id]);
  const [sessions, reloadSessions] = useAsync(() => listUserSessions(id), [id]);
  const [notice, setNotice] = useState('');
  return (
    <>
      <p class="breadcrumb">
        <Link to="/users">Users</Link> / {id}
      </p>
      <p role="status" aria-live="polite" class="notice">
        {notice}
      </p>
      <Async state={user} what="the user">
        {(value) => (
          <>
            <div class="page-header">
              <h1>{value.email}</h1>
              <span class={`status status-${value.disabled ? 'revoked' : 'active'}`}>{value.disabled ? 'disabled' : 'active'}</span>
            </div>
            <EditUser user={value} onSaved={() => { setNotice('Saved.'); reload(); }} />
            <div class="actions">
              <ConfirmButton
                label={value.disabled ? 'Enable user' : 'Disable user'}
                title={value.disabled ? `Enable ${value.email}?` : `Disable ${value.email}?`}
                confirmLabel={value.disabled ? 'Enable' : 'Disable'}
                danger={!value.disabled}
                action={async () => {
                  await updateUser(value.id, { disabled: !value.disabled });
                  reload();
                  reloadSessions();
                }}
              >
                <p>{value.disabled ? 'The user can sign in again.' : 'The user cannot sign in; its sessions, grants and tokens end now.'}</p>
              </ConfirmButton>
              <ConfirmButton
                label="Revoke grants"
                title="Revoke every grant of this user?"
                confirmLabel="Revoke grants"
                danger
                action={async () => {
                  await revokeUserGrants(value.id);
                  setNotice('Every grant of this user is revoked: its refresh tokens no longer work.');
                }}
              >
                <p>Applications the user signed in to lose their refresh tokens and must ask the user again.</p>
              </ConfirmButton>
            </div>
          </>
        )}
      </Async>
      <section class="card" aria-labelledby="user-sessions">
        <h2 id="user-sessions">Login sessions</h2>
        <Async state={sessions} what="sessions">
          {(page) =>
            page.data.length === 0 ? (
              <Empty>No live login session.</Empty>
            ) : (
              <ul class="plain-list">
                {page.data.map((session) => (
                  <li key={session.id}>
                    <code>{session.id}</code> signed in {formatTime(session.authTime)}, until {formatTime(session.expiresAt)}{' '}
                    <ConfirmButton
                      label={`End session ${session.id}`}
                      title="End this session?"
                      confirmLabel="End session"
                      action={async () => {
                        await endUserSession(id, session.id);
                        reloadSessions();
                      }}
                    >
                      <p>The browser holding it must sign in again.</p>
                    </ConfirmButton>
                  </li>
                ))}
              </ul>
            )
          }
        </Async>
      </section>
    </>
  );
}

function EditUser({ user, onSaved }: { user: User; onSaved: () => void }) {
  const { busy, error, run } = useAction();
  return (
    <form
      class="card form"
      aria-labelledby="edit-user-title"
      onSubmit={(event) => {
        event.preventDefault();
        const form = new FormData(event.currentTarget);
        const email = String(form.get('email') ?? '').trim();
        const name = String(form.get('name') ?? '').trim();
        void run(async () => {
          const adminScopes = form.getAll('adminScopes').map(String);
          const rolesChanged = [...adminScopes].sort().join(' ') !== [...(user.adminScopes ?? [])].sort().join(' ');
          await updateUser(user.id, { email, name: name || null, ...(rolesChanged ? { adminScopes } : {}) });
          onSaved();
        });
      }}
    >
      <h2 id="edit-user-title">Profile</h2>
      <Field id="edit-email" label="Email">
        <input id="edit-email" name="email" type="email" required defaultValue={user.email} />
      </Field>
      <Field id="edit-name" label="Name">
        <input id="edit-name" name="name" defaultValue={user.name ?? ''} />
      </Field>
      {user.adminScopes && <RolePicker name="adminScopes" value={user.adminScopes} />}
      <dl class="properties">
        <dt>Tenant</dt>
        <dd>{user.tenantId ?? '—'}</dd>
        <dt>Created</dt>
        <dd>{formatTime(user.createdAt)}</dd>
      </dl>
      {error !== null && <ErrorMessage error={error} />}
      <button type="submit" class="primary" disabled={busy}>
        Save
      </button>
    </form>
  );
}
