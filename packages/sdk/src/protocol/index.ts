export { QUERY_CREDENTIAL_PARAMS, credentialInQuery, credentialParameter, type QueryCredentialParam } from './query-credentials.js';
export { decodeBase64Url, decodeJoseSegment } from './decode-jose-segment.js';
export { CLOCK_SKEW_SECONDS, checkTimeClaims, type TimeClaimsVerdict } from './time-claims.js';
