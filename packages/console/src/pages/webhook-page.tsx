import { useState } from 'preact/hooks';
import {
  deleteWebhookEndpoint,
  getWebhookEndpoint,
  listWebhookDeliveries,
  retryWebhookDelivery,
  rotateWebhookSecret,
  sendWebhookTestEvent,
  updateWebhookEndpoint,
} from '../api/webhooks';
import { ConfirmButton } from '../components/confirm-button';
import { formatTime } from '../components/format';
import { Link } from '../components/link';
import { SecretOnce } from '../components/secret-once';
import { Async, Empty, ErrorMessage } from '../components/status';
import { useAction } from '../components/use-action';
import { useAsync } from '../components/use-async';
import { navigate } from '../router';
import { Table } from '../components/layout';

/** One webhook endpoint: enable/disable, send a test event, rotate its secret, delete, and its delivery log with retry. */
export function WebhookPage({ id }: { id: string }) {
  const [endpoint, reload] = useAsync(() => getWebhookEndpoint(id), [id]);
  const [deliveries, reloadDeliveries] = useAsync(() => listWebhookDeliveries(id), [id]);
  const [secret, setSecret] = useState<string | null>(null);
  const [notice, setNotice] = useState('');
  const { error, run } = useAction();
  return (
    <>
      <p class="breadcrumb">
        <Link to="/webhooks">Webhook endpoints</Link> / {id}
      </p>
      {secret && <SecretOnce label="The new signing secret" secret={secret} onDone={() => setSecret(null)} />}
      {error !== null && <ErrorMessage error={error} />}
      <p role="status" aria-live="polite" class="notice">
        {notice}
      </p>
      <Async state={endpoint} what="the endpoint">
        {(value) => (
          <>
            <div class="page-header">
              <h1>{value.url}</h1>
              <span class={`status status-${value.status === 'enabled' ? 'active' : 'revoked'}`}>{value.status}</span>
            </div>
            <dl class="properties">
              <dt>Events</dt>
              <dd>{value.events.join(' ')}</dd>
              <dt>Scheme</dt>
              <dd>{value.scheme}</dd>
              <dt>Description</dt>
              <dd>{value.description ?? '—'}</dd>
              <dt>Tenant</dt>
              <dd>{value.tenantId ?? '—'}</dd>
              {value.disabledReason && (
                <>
                  <dt>Disabled because</dt>
                  <dd>{value.disabledReason}</dd>
                </>
              )}
              {value.failingSince && (
                <>
                  <dt>Failing since</dt>
                  <dd>{formatTime(value.failingSince)}</dd>
                </>
              )}
            </dl>
            <div class="actions">
              <button
                type="button"
                onClick={() =>
                  void run(async () => {
                    await updateWebhookEndpoint(value.id, { enabled: value.status !== 'enabled' });
                    reload();
                  })
                }
              >
                {value.status === 'enabled' ? 'Disable' : 'Enable'}
              </button>
              <button
                type="button"
                disabled={value.status !== 'enabled'}
                title={value.status === 'enabled' ? 'Send a webhook.test event to this endpoint only' : 'Enable the endpoint first'}
                onClick={() =>
                  void run(async () => {
                    setNotice('');
                    const delivery = await sendWebhookTestEvent(value.id);
                    setNotice(`Test event queued (delivery ${delivery.id}); it shows in the delivery log below.`);
                    reloadDeliveries();
                  })
                }
              >
                Send test event
              </button>
              <ConfirmButton
                label="Rotate secret"
                title="Rotate the signing secret?"
                confirmLabel="Rotate"
                action={async () => {
                  setSecret((await rotateWebhookSecret(value.id)).secret);
                  reload();
                }}
              >
                <p>Deliveries are signed with both secrets for a grace period, so your receiver can switch over.</p>
              </ConfirmButton>
              <ConfirmButton
                label="Delete endpoint"
                title="Delete this endpoint?"
                confirmLabel="Delete"
                danger
                action={async () => {
                  await deleteWebhookEndpoint(value.id);
                  navigate('/webhooks');
                }}
              >
                <p>No more events are sent to it.</p>
              </ConfirmButton>
            </div>
          </>
        )}
      </Async>
      <section class="card" aria-labelledby="deliveries">
        <div class="page-header">
          <h2 id="deliveries">Delivery log</h2>
          <button type="button" onClick={reloadDeliveries}>
            Refresh
          </button>
        </div>
        <Async state={deliveries} what="deliveries">
          {(page) =>
            page.data.length === 0 ? (
              <Empty>No deliveries yet.</Empty>
            ) : (
              <Table caption="Deliveries" columns={['Event', 'Status', 'Attempts', 'Last response', 'Created', 'Actions']}>
                {page.data.map((delivery) => (
                  <tr key={delivery.id}>
                    <td>
                      <code>{delivery.eventType}</code>
                    </td>
                    <td>{delivery.status}</td>
                    <td>
                      <details>
                        <summary>{delivery.attempts}</summary>
                        <ul class="plain-list">
                          {delivery.attemptLog.map((attempt) => (
                            <li key={attempt.attempt}>
                              #{attempt.attempt} {formatTime(attempt.attemptedAt)}: {attempt.outcome}
                              {attempt.statusCode !== null && ` HTTP ${attempt.statusCode}`} in {attempt.latencyMs} ms
                              {attempt.error && ` (${attempt.error})`}
                            </li>
                          ))}
                        </ul>
                      </details>
                    </td>
                    <td>{delivery.lastStatusCode ?? delivery.lastError ?? '—'}</td>
                    <td>{formatTime(delivery.createdAt)}</td>
                    <td>
                      {delivery.status !== 'delivered' && (
                        <button
                          type="button"
                          onClick={() =>
                            void run(async () => {
                              await retryWebhookDelivery(id, delivery.id);
                              reloadDeliveries();
                            })
                          }
                        >
                          Retry
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </Table>
            )
          }
        </Async>
      </section>
    </>
  );
}
