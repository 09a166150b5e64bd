import { useEffect } from "react";

/** The document title follows the page's <h1>; null leaves it to another component. */
export function usePageTitle(title: string | null): void {
  useEffect(() => {
    if (title !== null) document.title = `${title} · Metering console`;
  }, [title]);
}
