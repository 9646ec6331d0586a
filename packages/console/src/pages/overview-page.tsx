import { listAuditEvents } from '../api/audit';
import { overallUsage } from '../api/usage';
import { AuditTable } from '../components/audit-table';
import { formatTime } from '../components/format';
import { Link } from '../components/link';
import { Async, Empty } from '../components/status';
import { UsageChart } from '../components/usage-chart';
import { useAsync } from '../components/use-async';
import { BlockList } from './security-page';

/** Event types that record a change someone made (not a verification, a sign-in or a token). */
const ADMIN_ACTION = /\.(created|updated|rotated|revoked|deleted|secret_rotated|unblocked|retried|sessions_ended|issued|disabled)$/;

/** Overview: traffic per minute, active alerts, current IP blocks, recent admin actions. */
export function OverviewPage() {
  const [usage] = useAsync(() => overallUsage({ granularity: 'minute', from: new Date(Date.now() - 3600_000).toISOString() }), []);
  const [alerts] = useAsync(() => listAuditEvents({ type: 'alert.*', since: new Date(Date.now() - 86_400_000).toISOString(), limit: 10 }), []);
  const [actions] = useAsync(() => listAuditEvents({ limit: 100 }), []);
  return (
    <>
      <h1>Overview</h1>
      <section class="card" aria-labelledby="overview-usage">
        <h2 id="overview-usage">Verifications and failures, last hour</h2>
        <Async state={usage} what="usage">
          {(series) => <UsageChart series={series} title="Per minute by outcome" />}
        </Async>
      </section>
      <div class="grid-2">
        <section class="card" aria-labelledby="overview-alerts">
          <h2 id="overview-alerts">Alerts, last 24 hours</h2>
          <Async state={alerts} what="alerts">
            {(page) =>
              page.data.length === 0 ? (
                <Empty>No alerts.</Empty>
              ) : (
                <ul class="plain-list">
                  {page.data.map((event) => (
                    <li key={event.id}>
                      <code>{event.type}</code> {formatTime(event.occurredAt)} {event.ip ?? ''}
                    </li>
                  ))}
                </ul>
              )
            }
          </Async>
        </section>
        <section class="card" aria-labelledby="overview-blocks">
          <h2 id="overview-blocks">Blocked addresses</h2>
          <BlockList />
          <Link to="/security">Manage blocks</Link>
        </section>
      </div>
      <section class="card" aria-labelledby="overview-actions">
        <h2 id="overview-actions">Recent admin actions</h2>
        <Async state={actions} what="recent actions">
          {(page) => {
            const changes = page.data.filter((event) => ADMIN_ACTION.test(event.type)).slice(0, 10);
            return changes.length === 0 ? <Empty>No admin action yet.</Empty> : <AuditTable events={changes} caption="Recent admin actions" />;
          }}
        </Async>
        <Link to="/audit">The whole audit log</Link>
      </section>
    </>
  );
}
