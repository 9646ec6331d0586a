import { MANAGEMENT_SCOPES } from './scope-picker';

/**
 * A user's admin roles: the management scopes it holds when signed in to the console (`admin` implies all).
 * Ticking none makes the user an ordinary one. You can grant only what you hold; the server says so if not.
 */
export function RolePicker({ name, value }: { name: string; value: readonly string[] }) {
  return (
    <fieldset>
      <legend>Admin roles</legend>
      <div class="checkbox-grid">
        {MANAGEMENT_SCOPES.map((scope) => (
          <label key={scope} class="checkbox">
            <input type="checkbox" name={name} value={scope} defaultChecked={value.includes(scope)} />
            {scope}
          </label>
        ))}
      </div>
    </fieldset>
  );
}
