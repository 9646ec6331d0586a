import { useState } from 'preact/hooks';
import { createUser, listUsers } from '../api/users';
import { Field } from '../components/field';
import { RolePicker } from '../components/role-picker';
import { formFields, formatTime } from '../components/format';
import { Link } from '../components/link';
import { Async, Empty } from '../components/status';
import { useAction } from '../components/use-action';
import { useAsync } from '../components/use-async';
import { navigate } from '../router';
import { FormActions, PageHeader, Table } from '../components/layout';

/** Users who sign in on Gatehouse's login page: the list, and creating one. */
export function UsersPage() {
  const [users] = useAsync(() => listUsers(), []);
  const [creating, setCreating] = useState(false);
  const { busy, error, run } = useAction();
  const submit = (event: Event) => {
    const { text, raw, all } = formFields(event);
    void run(async () => {
      const user = await createUser({
        email: text('email'),
        password: raw('password'),
        ...(text('name') ? { name: text('name') } : {}),
        ...(text('tenantId') ? { tenantId: text('tenantId') } : {}),
        adminScopes: all('adminScopes'),
      });
      navigate(`/users/${user.id}`);
    });
  };
  return (
    <>
      <PageHeader title="Users" action={!creating ? { label: 'Create user', onClick: () => setCreating(true) } : null} />
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
          <FormActions error={error} busy={busy} submitLabel={'Create user'} onCancel={() => setCreating(false)} />
        </form>
      )}
      <Async state={users} what="users">
        {(page) =>
          page.data.length === 0 ? (
            <Empty>No users yet.</Empty>
          ) : (
            <Table caption="Users" columns={['Email', 'Name', 'Status', 'Admin roles', 'Tenant', 'Created']}>
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
            </Table>
          )
        }
      </Async>
    </>
  );
}
