/** Vote requests of the leader election: one request and one response per stream. */
export const ELECT_PROTOCOL = '/praas/elect/1.0.0'
/** Placement and activation epochs, asked of the leader: requests multiplexed on one long-lived stream (the invoke framing). */
export const ALLOC_PROTOCOL = '/praas/alloc/2.0.0'

/** A node samples its own figures (load, event-loop delay, memory) this often; they go to the leader with each lease renewal. */
export const SAMPLE_INTERVAL_MS = 1_000
/**
 * Timers that run about once a second (the sample, lease renewals) may run this much later, on
 * the wake-up of another timer (SWIM's probes come every 400 ms): an idle node wakes for them
 * all at once (swim/clock.ts).
 */
export const PERIODIC_SLACK_MS = 450
/**
 * ...and into the node's SWIM record at most this often, only when they moved: every record
 * change reaches every node, so figures that change every second must not ride there.
 */
export const MEMBER_FIGURES_INTERVAL_MS = 30_000
/** Figures a member sent with its lease renewal count over its record's for this long. */
export const REPORT_FRESH_MS = 3_000

/**
 * A follower with no leader (at start, after an election it lost) stands after this long, plus
 * rank and jitter.
 */
export const ELECTION_TIMEOUT_MS = 1_000
/**
 * A follower whose leader SWIM no longer holds alive (suspect: a probe failed; dead) stands after
 * this long, plus rank and jitter: time for the suspicion to reach the voters, and for a leader
 * that is only slow to refute it first.
 */
export const LEADER_LOST_MS = 500
/** Random extra wait before standing, so that two candidates rarely split the votes. */
export const ELECTION_JITTER_MS = 150
/** Extra wait per rank: the live node with the lowest peer id stands first. */
export const ELECTION_RANK_STEP_MS = 150
/** A new node listens this long (SWIM's state arrives) before it may stand or vote. */
export const STARTUP_GRACE_MS = 2_000
/** Limit of one vote request. */
export const VOTE_TIMEOUT_MS = 500

/** Limit of one allocation request forwarded to the leader. */
export const ALLOC_TIMEOUT_MS = 5_000
/** How long an allocation waits for a leader to exist before failing with UNAVAILABLE. */
export const ALLOC_WAIT_FOR_LEADER_MS = 5_000

/** Largest message of the elect, alloc and lease protocols. */
export const MAX_CLUSTER_MESSAGE_BYTES = 8 * 1024

/** The cluster config (members, revocations) between members: push, pull, and changes sent to the leader. */
export const ROSTER_PROTOCOL = '/praas/roster/1.0.0'
/** A node that is not a member yet presents its join token here (any member answers). */
export const JOIN_PROTOCOL = '/praas/join/1.0.0'
/** Limit of one roster call (a push waits for the member to store the config). */
export const ROSTER_TIMEOUT_MS = 5_000
/** The largest config message, members a config lists, and revocations it keeps. */
export const MAX_ROSTER_BYTES = 2 * 1024 * 1024
export const MAX_ROSTER_MEMBERS = 4096
export const MAX_REVOCATIONS = 10_000

/** Leases (lease.ts): a member renews its lease with the leader over this protocol. */
export const LEASE_PROTOCOL = '/praas/lease/1.0.0'
/** How long a lease runs from the moment its renewal was asked for. */
export const LEASE_MS = 4_000
/** How often a member renews: several renewals fit in one lease, so one lost renewal costs nothing. */
export const LEASE_RENEW_MS = 1_000
/**
 * Taken off every lease on the member's side and added on the leader's: clocks are never
 * compared, but their rates may differ a little, and a timer may fire late.
 */
export const LEASE_MARGIN_MS = 400
