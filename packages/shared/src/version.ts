/** Atlas's version, as sent in the User-Agent and `/_matrix/federation/v1/version`. */
export const ATLAS_VERSION = '0.1.0';
export const USER_AGENT = `Atlas/${ATLAS_VERSION} (Matrix room directory crawler)`;
