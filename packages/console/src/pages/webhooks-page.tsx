import { useState } from 'preact/hooks';
import { createWebhookEndpoint, listWebhookEndpoints } from '../api/webhooks';
import { Field } from '../components/field';
import { formFields, formatTime, splitList } from '../components/format';
import { Link } from '../components/link';
import { SecretOnce } from '../components/secret-once';
import { Async, Empty } from '../components/status';
import { useAction } from '../components/use-action';
import { useAsync } from '../components/use-async';
import { navigate } from '../router';
import { FormActions, PageHeader, Table } from '../components/layout';

/** Webhook endpoints: the list, and creating one (its signing secret shown once). */
export function WebhooksPage() {
  const [endpoints, reload] = useAsync(() => listWebhookEndpoints(), []);
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<{ id: string; secret: string } | null>(null);
  const { busy, error, run } = useAction();
  const submit = (event: Event) => {
    const { text } = formFields(event);
    void run(async () => {
      const endpoint = await createWebhookEndpoint({
        url: text('url'),
        events: splitList(text('events')),
        scheme: text('scheme'),
        ...(text('description') ? { description: text('description') } : {}),
        ...(text('tenantId') ? { tenantId: text('tenantId') } : {}),
      });
      setCreating(false);
      setCreated({ id: endpoint.id, secret: endpoint.secret });
      reload();
    });
  };
  return (
    <>
      <PageHeader title="Webhook endpoints" action={!creating && !created ? { label: 'Add endpoint', onClick: () => setCreating(true) } : null} />
      {created && (
        <SecretOnce
          label="The endpoint's signing secret"
          secret={created.secret}
          onDone={() => {
            const id = created.id;
            setCreated(null);
            navigate(`/webhooks/${id}`);
          }}
        />
      )}
      {creating && (
        <form class="card form" aria-labelledby="create-webhook-title" onSubmit={submit}>
          <h2 id="create-webhook-title">Add a webhook endpoint</h2>
          <Field id="webhook-url" label="URL">
            <input id="webhook-url" name="url" type="url" required placeholder="https://api.example.com/webhooks/gatehouse" />
          </Field>
          <Field id="webhook-events" label="Events" hint="* for every event, or families such as key.* alert.*, separated by spaces.">
            <input id="webhook-events" name="events" required defaultValue="*" aria-describedby="webhook-events-hint" />
          </Field>
          <Field id="webhook-scheme" label="Signature scheme">
            <select id="webhook-scheme" name="scheme">
              <option value="standard">Standard Webhooks</option>
              <option value="stripe">Stripe-style (Gatehouse-Signature)</option>
            </select>
          </Field>
          <Field id="webhook-description" label="Description (optional)">
            <input id="webhook-description" name="description" />
          </Field>
          <Field id="webhook-tenant" label="Tenant (optional)">
            <input id="webhook-tenant" name="tenantId" />
          </Field>
          <FormActions error={error} busy={busy} submitLabel={'Add endpoint'} onCancel={() => setCreating(false)} />
        </form>
      )}
      <Async state={endpoints} what="webhook endpoints">
        {(page) =>
          page.data.length === 0 ? (
            <Empty>No webhook endpoints yet.</Empty>
          ) : (
            <Table caption="Webhook endpoints" columns={['URL', 'Events', 'Status', 'Created']}>
              {page.data.map((endpoint) => (
                <tr key={endpoint.id}>
                  <td>
                    <Link to={`/webhooks/${endpoint.id}`}>{endpoint.url}</Link>
                  </td>
                  <td>{endpoint.events.join(' ')}</td>
                  <td>
                    <span class={`status status-${endpoint.status === 'enabled' ? 'active' : 'revoked'}`}>{endpoint.status}</span>
                  </td>
                  <td>{formatTime(endpoint.createdAt)}</td>
                </tr>
              ))}
            </Table>
          )
        }
      </Async>
    </>
  );
}
