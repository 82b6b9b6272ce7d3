Feature: Failover drills: a region is lost and recovery is measured
  The static requirements show that the DR stacks are configured to fail over;
  these drills show that failover happens, and how fast. Each drill runs a
  two-region deployment, fails (or hands over) the primary region while a
  client keeps writing through the service's DNS name, and measures the
  recovery time (from the failure to the first write the other region
  acknowledges) and the recovery point (the window of acknowledged writes
  that were lost). The health-check interval, failure threshold and DNS TTL
  are read from the synthesized Route 53 resources, the promotion allowance
  and the targets from the organisation's settings.

  The default target is a local stand-in built from real engines:
  PostgreSQL for the Aurora global database, PowerDNS for Route 53, and the
  project's own health-check and failover functions. Its timings may be
  scaled down for CI; the report states the scale factor, the knobs used and
  what each component stands in for.

  Background:
    Given the failover knobs of the DR stacks as synthesized from this repository
    And a local two-region deployment built from real engines

  @deploy @DR-DEP-01
  Scenario: Losing the primary region keeps writes within the RTO and RPO targets
    When the primary region is lost, database and health endpoint at once
    Then the secondary region serves writes through the DNS name
    And the measured RTO is below the RTO target
    And the measured RPO is below the RPO target
    And the drill's timeline is kept for the compliance report
    And nothing the drill started is left running

  @deploy @DR-DEP-02
  Scenario: Replication lag before a region loss is the data that is lost
    When replication lag above the stacks' lag alarm threshold builds up and the primary region is then lost
    Then the window of lost acknowledged writes matches the injected lag
    And the replication-lag alarm from the stacks would have fired
    And the drill's timeline is kept for the compliance report
    And nothing the drill started is left running

  @deploy @DR-DEP-03
  Scenario: A planned switchover loses no acknowledged write and keeps a replica
    When a planned switchover to the secondary region is made
    Then no acknowledged write is lost
    And the old primary becomes the replica of the new primary
    And the drill's timeline is kept for the compliance report
    And nothing the drill started is left running

  @deploy @DR-DEP-04
  Scenario: The measured RTO never exceeds the static RTO budget
    When the primary region is lost just after a passed health check
    Then the measured RTO is within the static budget of interval, failure threshold, TTL and promotion allowance
    And no drill of this run measured an RTO above its static budget
    And the drill's timeline is kept for the compliance report
    And nothing the drill started is left running
