// Checks on onboarding input before the shell is asked; each returns an error message or null.

/** A relay URL must be ws://, wss://, http:// or https:// with a host. */
export function checkRelayUrl(url: string): string | null {
  const u = url.trim();
  if (!u) return 'Enter the relay URL your admin gave you.';
  let parsed: URL;
  try {
    parsed = new URL(u);
  } catch {
    return 'That is not a URL. It looks like wss://relay.example.com.';
  }
  if (!['ws:', 'wss:', 'http:', 'https:'].includes(parsed.protocol))
    return 'The relay URL must start with wss://, ws://, https:// or http://.';
  if (!parsed.hostname) return 'The relay URL needs a host name.';
  return null;
}

export function checkToken(token: string): string | null {
  if (!token.trim()) return 'Paste the invite token your admin gave you.';
  if (/\s/.test(token.trim())) return 'The token has spaces in it; paste it again.';
  return null;
}

export function checkLocal(team: string, name: string, email: string): string | null {
  if (!team.trim()) return 'Give the workspace a team name.';
  if (!name.trim()) return 'Enter your name.';
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email.trim())) return 'Enter a valid e-mail address.';
  return null;
}
