/**
 * A user agent in a few words ("Chrome 131 on macOS"), or its first part for
 * programs ("curl/8.5.0"); the page shows the whole string on hover.
 */
export function shortUserAgent(agent: string): string {
  const browsers: [RegExp, string][] = [
    [/Edg\/(\d+)/, "Edge"],
    [/OPR\/(\d+)/, "Opera"],
    [/Firefox\/(\d+)/, "Firefox"],
    [/HeadlessChrome\/(\d+)/, "Headless Chrome"],
    [/Chrome\/(\d+)/, "Chrome"],
    [/Version\/(\d+)[\d.]* (Mobile\/\S+ )?Safari/, "Safari"],
  ];
  const systems: [RegExp, string][] = [
    [/iPhone|iPad/, "iOS"],
    [/Android/, "Android"],
    [/Windows/, "Windows"],
    [/Mac OS X|Macintosh/, "macOS"],
    [/CrOS/, "ChromeOS"],
    [/Linux/, "Linux"],
  ];
  for (const [pattern, name] of browsers) {
    const match = pattern.exec(agent);
    if (!match) continue;
    const system = systems.find(([p]) => p.test(agent))?.[1];
    return `${name} ${match[1]}${system ? ` on ${system}` : ""}`;
  }
  const first = agent.split(/\s+/)[0] ?? agent;
  return first.length > 40 ? `${first.slice(0, 39)}…` : first;
}
