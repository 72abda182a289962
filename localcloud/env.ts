/** The env the provider plugins (and any other client) read the local cloud from. */
export const LOCALCLOUD_ENV = {
  url: "LOCALCLOUD_URL",
  token: "LOCALCLOUD_TOKEN",
} as const;
