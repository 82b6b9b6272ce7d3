Feature: Recovery time and recovery point objectives
  The design promises that when the primary region is lost the service is
  back within the recovery time objective (RTO, 60 seconds) and loses at
  most the recovery point objective (RPO, 5 seconds) of writes. The
  promise holds only if the pieces that deliver it are present and wired
  together before any incident: DNS failover whose worst-case timing fits
  the RTO, health checks that probe each region's real endpoint, a
  promotion of the secondary database that starts by itself and can touch
  nothing else, data that is continuously replicated and backed up, and
  alarms that report replication falling behind the RPO. These checks read
  the synthesized configuration, so a change that quietly breaks the
  recovery plan is caught before it is deployed; the failover drills then
  measure the real times against the same targets.

  Background:
    Given the DR stacks as synthesized from this repository

  @DR-RTO-01
  Scenario: The failover is budgeted stage by stage, and the time it exceeds is an approved exception
    The promotion of the secondary database takes up to a minute by itself
    (AWS), so no design can be back within 60 seconds; the watchdog makes
    the path as short as AWS allows (110 seconds end to end) and the
    exception is recorded, approved and bounded in time.
    When requirement DR-RTO-01 is evaluated
    Then the requirement is waived by the app's approved exceptions and every finding stays visible
    And the slowest stage of the promotion then DNS path is "promotion"
    And at least 3 resources were evaluated

  @DR-RTO-01
  Scenario: Detects: a promotion started by a one-minute alarm, the slowest stage named
    Given the example configuration "alarm-triggered-design" written by another team
    When requirement DR-RTO-01 is evaluated
    Then the requirement fails with a finding on "aws_rds_global_cluster.global-database_global_B744DE8E"
    And the slowest stage of the promotion then DNS path is "metric publication"

  @DR-RTO-01
  Scenario Outline: Detects: a slower failover timing than the RTO allows
    Given the change "<change>" is made to a copy of the stacks
    When requirement DR-RTO-01 is evaluated
    Then the requirement fails and names the changed resource

    Examples:
      | change                                      |
      | failover record TTL raised to 60 seconds    |
      | health check failure threshold raised to 7  |
      | watchdog probes every 30 seconds            |
      | watchdog schedule removed                   |

  @DR-RTO-02
  Scenario: The service name fails over between two health-checked regions
    When requirement DR-RTO-02 is evaluated
    Then the requirement is met with no finding
    And at least 4 resources were evaluated

  @DR-RTO-02
  Scenario Outline: Detects: a broken failover pair or a health check that probes the wrong thing
    Given the change "<change>" is made to a copy of the stacks
    When requirement DR-RTO-02 is evaluated
    Then the requirement fails and names the changed resource

    Examples:
      | change                                      |
      | secondary record marked PRIMARY             |
      | health check probes the raw function URL    |
      | health check path changed to the site root  |

  @DR-RTO-03
  Scenario: A watchdog in the secondary region, and the primary's health alarm, promote the secondary database with a grant limited to it
    When requirement DR-RTO-03 is evaluated
    Then the requirement is met with no finding
    And at least 2 resources were evaluated

  @DR-RTO-03
  Scenario Outline: Detects: a promotion that would not start, or that may touch any database
    Given the change "<change>" is made to a copy of the stacks
    When requirement DR-RTO-03 is evaluated
    Then the requirement fails and names the changed resource

    Examples:
      | change                                      |
      | failover function invoke permission removed |
      | failover role may promote any cluster       |
      | watchdog invoke permission removed          |
      | nothing starts the promotion                |

  @DR-RPO-01
  Scenario: The database and the table are replicated to the secondary region and backed up
    When requirement DR-RPO-01 is evaluated
    Then the requirement is met with no finding
    And at least 4 resources were evaluated

  @DR-RPO-01
  Scenario Outline: Detects: data that is not replicated or cannot be restored to a point in time
    Given the change "<change>" is made to a copy of the stacks
    When requirement DR-RPO-01 is evaluated
    Then the requirement fails and names the changed resource

    Examples:
      | change                                      |
      | DynamoDB replica removed                    |
      | table point-in-time recovery off            |
      | replica point-in-time recovery off          |
      | Aurora backups kept 1 day                   |
      | secondary cluster leaves the global cluster |

  @DR-RPO-02
  Scenario: Replication lag is alarmed as fast as AWS allows, and the window it cannot meet is an approved exception
    Replication lag is published once a minute: no alarm can warn within
    half of a 5-second recovery point objective. The alarms fire as soon as
    AWS allows (61 seconds into a stall) and the exception is recorded,
    approved and bounded in time.
    When requirement DR-RPO-02 is evaluated
    Then the requirement is waived by the app's approved exceptions and every finding stays visible
    And at least 4 resources were evaluated

  @DR-RPO-02
  Scenario Outline: Detects: an alarm that is too lax or watches a metric that never arrives
    Given the change "<change>" is made to a copy of the stacks
    When requirement DR-RPO-02 is evaluated
    Then the requirement fails and names the changed resource

    Examples:
      | change                                               |
      | replication lag alarm threshold 30 seconds           |
      | replication lag alarm moved to us-east-1             |
      | replication lag alarm watches the primary cluster    |
      | DynamoDB latency alarm on the wrong receiving region |

  @DR-RTO-03
  Scenario: A one-stack layout with an aliased provider per region meets the promotion requirement
    Given the example configuration "recovery_one_stack.tf.json" written by another team
    When requirement DR-RTO-03 is evaluated
    Then the requirement is met with no finding
    And at least 2 resources were evaluated

  @DR-RPO-02
  Scenario: Detects: a one-stack layout without a replication-lag alarm in the secondary region
    Given the example configuration "references_one_stack.tf.json" written by another team
    When requirement DR-RPO-02 is evaluated
    Then the requirement fails with a finding on "aws_rds_cluster.west"
