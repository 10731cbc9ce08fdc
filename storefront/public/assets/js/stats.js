// The statistics script of the privacy policy (1.2): one hit per page view, with the page's
// path and, when the visitor came from another site, that site's origin. Nothing else: no
// query string (a search can be personal), no ids of the visitor, no cookies
// (credentials "omit"). Nothing at all when the browser asks not to be tracked (Do Not
// Track or Global Privacy Control); the gateway drops such a hit too.
export function trackingRefused() {
  return (
    navigator.doNotTrack === "1" ||
    window.doNotTrack === "1" ||
    navigator.globalPrivacyControl === true
  );
}

function referrerOrigin() {
  try {
    const from = new URL(document.referrer);
    return from.origin !== location.origin && from.protocol.startsWith("http") ? `${from.origin}/` : null;
  } catch {
    return null; // no referrer (our pages send none to each other)
  }
}

export function sendHit() {
  if (trackingRefused()) return;
  const hit = { path: location.pathname };
  const referrer = referrerOrigin();
  if (referrer) hit.referrer = referrer;
  fetch("/api/stats/hits", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(hit),
    credentials: "omit",
    keepalive: true,
  }).catch(() => {
    /* statistics never get in the visitor's way */
  });
}
