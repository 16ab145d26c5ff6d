/** Drawn icons: system fonts may lack emoji, and the page's CSP loads no icon font. */

/** A telephone handset, on every call button and the ringing screen. */
export function PhoneIcon({ className = 'icon' }: { className?: string }) {
  return (
    <svg className={className} viewBox="0 0 24 24" aria-hidden="true" focusable="false">
      <path
        fill="currentColor"
        d="M6.2 2.5h3.1l2 5.1-2.6 1.6a11.5 11.5 0 0 0 6.1 6.1l1.6-2.6 5.1 2v3.1a3 3 0 0 1-3 3A16.4 16.4 0 0 1 3.2 5.5a3 3 0 0 1 3-3z"
      />
    </svg>
  );
}

/** A head and shoulders, standing in for the guard until their picture arrives. */
export function PersonIcon({ className = 'icon' }: { className?: string }) {
  return (
    <svg className={className} viewBox="0 0 24 24" aria-hidden="true" focusable="false">
      <circle cx="12" cy="8" r="4.2" fill="currentColor" />
      <path fill="currentColor" d="M3.5 22a8.5 8.5 0 0 1 17 0z" />
    </svg>
  );
}
