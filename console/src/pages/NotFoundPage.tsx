import { Link } from "react-router";
import { usePageTitle } from "../components/usePageTitle";

export function NotFoundPage() {
  usePageTitle("Page not found");
  return (
    <section>
      <h1>Page not found</h1>
      <p>
        No console page has this address. <Link to="/">Go to the overview</Link>.
      </p>
    </section>
  );
}
