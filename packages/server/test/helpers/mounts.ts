import { execFileSync } from 'node:child_process';
import { tempDir } from './databases.js';

/**
 * Real file systems that fail the way disks do, for storage-failure tests: a small tmpfs that fills up, and a
 * read-only bind mount over one file. Both need the privilege to mount (root, or CAP_SYS_ADMIN).
 */

function mount(args: string[]): void {
  execFileSync('mount', args, { stdio: 'pipe' });
}

function umount(path: string): void {
  try {
    execFileSync('umount', [path], { stdio: 'pipe' });
  } catch {
    // Busy a moment after a close: detach it (it goes once the last file on it is closed).
    execFileSync('umount', ['-l', path], { stdio: 'pipe' });
  }
}

/** Whether this process may mount file systems (tried for real, with a tiny tmpfs). */
export function canMount(): boolean {
  const probe = tempDir('mount-probe');
  try {
    mount(['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe.path]);
    umount(probe.path);
    return true;
  } catch {
    return false;
  } finally {
    probe.remove();
  }
}

/** A tmpfs of `bytes` at a fresh directory; `unmount()` removes it and the directory. */
export function smallDisk(bytes: number): { path: string; unmount(): void } {
  const dir = tempDir('small-disk');
  mount(['-t', 'tmpfs', '-o', `size=${bytes},mode=0700`, 'tmpfs', dir.path]);
  return {
    path: dir.path,
    unmount() {
      umount(dir.path);
      dir.remove();
    },
  };
}

/** Makes `file` read-only for everyone, root included (a read-only bind mount over it); `undo()` restores it. */
export function readOnlyFile(file: string): { undo(): void } {
  mount(['--bind', file, file]);
  try {
    mount(['-o', 'remount,bind,ro', file]);
  } catch (error) {
    umount(file);
    throw error;
  }
  return { undo: () => umount(file) };
}
