import { useState } from 'preact/hooks';
import { splitList } from './format';

// The admin API's scopes, from the server's own list (a pure module: no server code comes with it).
import { MANAGEMENT_SCOPES } from '../../../server/src/core/api-keys/management-scopes';

export { MANAGEMENT_SCOPES };

/**
 * Scopes for a key: your own API's scopes typed freely, and Gatehouse's management scopes ticked (a key can
 * only be given management scopes its creator holds; the server says so if not).
 */
export function ScopePicker({ id, value, onChange }: { id: string; value: string[]; onChange: (scopes: string[]) => void }) {
  const management = new Set<string>(MANAGEMENT_SCOPES);
  const [custom, setCustom] = useState(value.filter((scope) => !management.has(scope)).join(' '));
  const ticked = value.filter((scope) => management.has(scope));
  const update = (nextCustom: string, nextTicked: string[]) => onChange([...splitList(nextCustom), ...nextTicked]);
  return (
    <fieldset class="scope-picker">
      <legend>Scopes</legend>
      <label for={`${id}-custom`}>Your API's scopes</label>
      <input
        id={`${id}-custom`}
        value={custom}
        placeholder="read:orders write:orders"
        aria-describedby={`${id}-custom-hint`}
        onInput={(event) => {
          const text = event.currentTarget.value;
          setCustom(text);
          update(text, ticked);
        }}
      />
      <small id={`${id}-custom-hint`} class="hint">
        Separated by spaces or commas.
      </small>
      <details>
        <summary>Gatehouse management scopes (admin keys)</summary>
        <div class="checkbox-grid">
          {MANAGEMENT_SCOPES.map((scope) => (
            <label key={scope} class="checkbox">
              <input
                type="checkbox"
                checked={ticked.includes(scope)}
                onChange={(event) => update(custom, event.currentTarget.checked ? [...ticked, scope] : ticked.filter((s) => s !== scope))}
              />
              {scope}
            </label>
          ))}
        </div>
      </details>
    </fieldset>
  );
}
