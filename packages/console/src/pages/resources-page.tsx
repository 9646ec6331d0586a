import { useState } from 'preact/hooks';
import { createResource, listResources } from '../api/resources';
import { Field } from '../components/field';
import { formFields, formatTime, splitList } from '../components/format';
import { FormActions, PageHeader, Table } from '../components/layout';
import { Async, Empty } from '../components/status';
import { useAction } from '../components/use-action';
import { useAsync } from '../components/use-async';

/** Resources (RFC 8707): the APIs tokens are for, with their scopes; the list, and registering one. */
export function ResourcesPage() {
  const [resources, reload] = useAsync(() => listResources(), []);
  const [creating, setCreating] = useState(false);
  const { busy, error, run } = useAction();
  const submit = (event: Event) => {
    const { text, all } = formFields(event);
    void run(async () => {
      const ttl = text('accessTokenTtlSeconds');
      await createResource({
        identifier: text('identifier'),
        name: text('name'),
        scopes: splitList(text('scopes')),
        dynamicClients: all('dynamicClients').length > 0,
        ...(ttl ? { accessTokenTtlSeconds: Number(ttl) } : {}),
        ...(text('tenantId') ? { tenantId: text('tenantId') } : {}),
      });
      setCreating(false);
      reload();
    });
  };
  return (
    <>
      <PageHeader title="Resources" action={!creating ? { label: 'Register resource', onClick: () => setCreating(true) } : null} />
      {creating && (
        <form class="card form" aria-labelledby="create-resource-title" onSubmit={submit}>
          <h2 id="create-resource-title">Register a resource</h2>
          <Field id="resource-identifier" label="Identifier" hint="The API's URL (RFC 8707 resource indicator), e.g. https://mcp.example.com/mcp.">
            <input id="resource-identifier" name="identifier" required maxLength={256} aria-describedby="resource-identifier-hint" />
          </Field>
          <Field id="resource-name" label="Name">
            <input id="resource-name" name="name" required maxLength={128} />
          </Field>
          <Field id="resource-scopes" label="Scopes" hint="The scopes the API defines, separated by spaces.">
            <input id="resource-scopes" name="scopes" aria-describedby="resource-scopes-hint" />
          </Field>
          <label class="checkbox">
            <input type="checkbox" name="dynamicClients" value="true" />
            Self-registered clients (Dynamic Client Registration, Client ID Metadata Documents) may ask for it
          </label>
          <Field id="resource-ttl" label="Token lifetime cap in seconds (optional)">
            <input id="resource-ttl" name="accessTokenTtlSeconds" type="number" min={60} max={86400} />
          </Field>
          <Field id="resource-tenant" label="Tenant (optional)">
            <input id="resource-tenant" name="tenantId" />
          </Field>
          <FormActions error={error} busy={busy} submitLabel="Register resource" onCancel={() => setCreating(false)} />
        </form>
      )}
      <Async state={resources} what="resources">
        {(page) =>
          page.data.length === 0 ? (
            <Empty>No resources yet.</Empty>
          ) : (
            <Table caption="Resources" columns={['Identifier', 'Name', 'Scopes', 'Self-registered clients', 'Created']}>
              {page.data.map((resource) => (
                <tr key={resource.id} data-resource-id={resource.id}>
                  <td>{resource.identifier}</td>
                  <td>{resource.name}</td>
                  <td>{resource.scopes.join(' ')}</td>
                  <td>{resource.dynamicClients ? 'allowed' : 'not allowed'}</td>
                  <td>{formatTime(resource.createdAt)}</td>
                </tr>
              ))}
            </Table>
          )
        }
      </Async>
    </>
  );
}
