import { useState } from 'preact/hooks';
import { createUser, listUsers } from '../api/users';
import { Field } from '../components/field';
import { RolePicker } from '../components/role-picker';
import { formatTime } from '../components/format';
import { Link } from '../components/link';
import { Async, Empty, ErrorMessage } from '../components/status';
import { useAction } from '../components/use-action';
import { useAsync } from '../components/use-async';
import { navigate } from '../router';

/** Users who sign in on Gatehouse's login page: the list, and creating one. */
export function UsersPage() {
  const [users] = useAsync(() => listUsers(), []);
  const [creating, setCreating] = useState(false);
  const { busy, error, run } = useAction();
  const submit = (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const text = (name: string) => String(form.get(name) ?? '').trim();
    void run(async () => {
      const user = await createUser({
        email: text('email'),
        password: String(form.get('password') ?? ''),
        ...(text('name') ? { name: text('name') } : {}),
        ...(text('tenantId') ? { tenantId: text('tenantId') } : {}),
        adminScopes: form.getAll('adminScopes').map(String),
      });
      navigate(`/users/${user.id}`);
    });
  };
  return (
    <>
      <div class="page-header">
        <h1>Users</h1>
        {!creating && (
          <button type="button" class="primary" onClick={() => setCreating(true)}>
            Create user
          </button>
        )}
      </div>
      {creating && (
        <form class="card form" aria-labelledby="create-user-title" onSubmit={submit}>
          <h2 id="create-user-title">Create a user</h2>
          <Field id="user-email" label="Email">
            <input id="user-email" name="email" type="email" required autoComplete="off" />
          </Field>
          <Field id="user-name" label="Name (optional)">
            <input id="user-name" name="name" />
          </Field>
          <Field id="user-password" label="Initial password" hint="8 characters at least. Tell it to the user over a safe channel.">
            <input id="user-password" name="password" type="password" required minLength={8} autoComplete="new-password" aria-describedby="user-password-hint" />
          </Field>
          <Field id="user-tenant" label="Tenant (optional)">
            <input id="user-tenant" name="tenantId" />
          </Field>
          <RolePicker name="adminScopes" value={[]} />
          {error !== null && <ErrorMessage error={error} />}
          <div class="actions">
            <button type="button" onClick={() => setCreating(false)}>
              Cancel
            </button>
            <button type="submit" class="primary" disabled={busy}>
              Create user
            </button>
          </div>
        </form>
      )}
      <Async state={users} what="users">
        {(page) =>
          page.data.length === 0 ? (
            <Empty>No users yet.</Empty>
          ) : (
            <div class="table-scroll">
              <table>
                <caption class="visually-hidden">Users</caption>
                <thead>
                  <tr>
                    <th scope="col">Email</th>
                    <th scope="col">Name</th>
                    <th scope="col">Status</th>
                    <th scope="col">Admin roles</th>
                    <th scope="col">Tenant</th>
                    <th scope="col">Created</th>
                  </tr>
                </thead>
                <tbody>
                  {page.data.map((user) => (
                    <tr key={user.id}>
                      <td>
                        <Link to={`/users/${user.id}`}>{user.email}</Link>
                      </td>
                      <td>{user.name ?? '—'}</td>
                      <td>
                        <span class={`status status-${user.disabled ? 'revoked' : 'active'}`}>{user.disabled ? 'disabled' : 'active'}</span>
                      </td>
                      <td>{user.adminScopes?.length ? user.adminScopes.join(' ') : '—'}</td>
                      <td>{user.tenantId ?? '—'}</td>
                      <td>{formatTime(user.createdAt)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        }
      </Async>
    </>
  );
}
