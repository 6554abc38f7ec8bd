/**
 * Synapse's rate limits, opened wide: the tests create hundreds of rooms in seconds, and Atlas
 * crawls one server with hundreds of signed requests in a row. The keys are the ones Synapse
 * 1.163 reads (synapse/config/ratelimiting.py); Atlas's own politeness is tested elsewhere.
 */
export function relaxedRateLimits(): Record<string, unknown> {
  const open = { per_second: 10_000, burst_count: 100_000 };
  return {
    rc_message: open,
    rc_registration: open,
    rc_registration_token_validity: open,
    rc_login: { address: open, account: open, failed_attempts: open },
    rc_admin_redaction: open,
    rc_joins: { local: open, remote: open },
    rc_joins_per_room: open,
    rc_key_requests: open,
    rc_3pid_validation: open,
    rc_invites: { per_room: open, per_user: open, per_issuer: open },
    rc_third_party_invite: open,
    rc_media_create: open,
    rc_presence: { per_user: open },
    rc_delayed_event_mgmt: open,
    rc_room_creation: open,
    rc_reports: open,
    rc_user_directory: open,
    rc_profile: open,
    // Federation: Synapse's defaults delay an origin after 10 requests a second and reject past 50.
    rc_federation: {
      window_size: 1000,
      sleep_limit: 100_000,
      sleep_delay: 1,
      reject_limit: 100_000,
      concurrent: 1000,
    },
  };
}
