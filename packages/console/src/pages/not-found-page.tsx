import { Link } from '../components/link';

export function NotFoundPage() {
  return (
    <>
      <h1>Not found</h1>
      <p>
        The console has no such page. <Link to="/">Go to the overview.</Link>
      </p>
    </>
  );
}
