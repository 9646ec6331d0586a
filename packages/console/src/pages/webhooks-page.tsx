import { useState } from 'preact/hooks';
import { createWebhookEndpoint, listWebhookEndpoints } from '../api/webhooks';
import { Field } from '../components/field';
import { formatTime, splitList } from '../components/format';
import { Link } from '../components/link';
import { SecretOnce } from '../components/secret-once';
import { Async, Empty, ErrorMessage } from '../components/status';
import { useAction } from '../components/use-action';
import { useAsync } from '../components/use-async';
import { navigate } from '../router';

/** Webhook endpoints: the list, and creating one (its signing secret shown once). */
export function WebhooksPage() {
  const [endpoints, reload] = useAsync(() => listWebhookEndpoints(), []);
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<{ id: string; secret: string } | null>(null);
  const { busy, error, run } = useAction();
  const submit = (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const text = (name: string) => String(form.get(name) ?? '').trim();
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
      <div class="page-header">
        <h1>Webhook endpoints</h1>
        {!creating && !created && (
          <button type="button" class="primary" onClick={() => setCreating(true)}>
            Add endpoint
          </button>
        )}
      </div>
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
          {error !== null && <ErrorMessage error={error} />}
          <div class="actions">
            <button type="button" onClick={() => setCreating(false)}>
              Cancel
            </button>
            <button type="submit" class="primary" disabled={busy}>
              Add endpoint
            </button>
          </div>
        </form>
      )}
      <Async state={endpoints} what="webhook endpoints">
        {(page) =>
          page.data.length === 0 ? (
            <Empty>No webhook endpoints yet.</Empty>
          ) : (
            <div class="table-scroll">
              <table>
                <caption class="visually-hidden">Webhook endpoints</caption>
                <thead>
                  <tr>
                    <th scope="col">URL</th>
                    <th scope="col">Events</th>
                    <th scope="col">Status</th>
                    <th scope="col">Created</th>
                  </tr>
                </thead>
                <tbody>
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
                </tbody>
              </table>
            </div>
          )
        }
      </Async>
    </>
  );
}
