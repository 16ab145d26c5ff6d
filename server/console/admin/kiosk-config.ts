/**
 * What a newly enrolled kiosk needs in its configuration file: the address of this server's
 * kiosk channel, its id and its secret, as the `intercom` block of the kiosk's JSON config.
 */
import { kioskChannelPath } from '../../../app/contract/intercom-protocol.js';

/**
 * The kiosk channel's address as seen from the console's page: the same host and sub-path (the
 * channel sits beside the console, also behind a reverse proxy), over wss:// when the page is
 * served over https://.
 */
export function kioskChannelUrl(pageUrl: string): string {
  const url = new URL(kioskChannelPath.replace(/^\//, ''), pageUrl);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';

  return url.href;
}

/** The `intercom` block to paste into the kiosk's configuration file. */
export function kioskConfigSnippet(channelUrl: string, kioskId: string, secret: string): string {
  const intercom = { url: channelUrl, kioskId, secret };
  return JSON.stringify({ intercom }, null, 2);
}
