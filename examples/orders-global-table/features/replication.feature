Feature: The orders survive the loss of a region
  The orders table is a DynamoDB global table: every write in us-east-1 is
  replicated to us-west-2, both copies keep point-in-time recovery, and the
  replication lag is alarmed early enough to act within this service's
  recovery point objective (five minutes, set in pyproject.toml).

  @DR-RPO-01
  Scenario: The orders table is replicated to the west and backed up
    Given the DR stacks as synthesized from this repository
    When requirement DR-RPO-01 is evaluated
    Then the requirement is met with no finding
    And at least 1 resources were evaluated

  @DR-RPO-01
  Scenario: Detects: a replica without point-in-time recovery
    Given the DR stacks as synthesized from this repository
    And "replica.0.point_in_time_recovery" of "aws_dynamodb_table.orders_table" is set to false in a copy of the stacks
    When requirement DR-RPO-01 is evaluated
    Then the requirement fails and names the changed resource

  @DR-RPO-02
  Scenario: Replication lag is alarmed within the five-minute recovery point objective
    Given the DR stacks as synthesized from this repository
    When requirement DR-RPO-02 is evaluated
    Then the requirement is met with no finding

  @DR-RPO-02
  Scenario: Detects: a lag alarm that fires only after the recovery point is lost
    Given the DR stacks as synthesized from this repository
    And "threshold" of "aws_cloudwatch_metric_alarm.replication_latency" is set to 240000 in a copy of the stacks
    When requirement DR-RPO-02 is evaluated
    Then the requirement fails and names the changed resource

  @DR-RES-01
  Scenario: The orders table cannot be deleted by mistake
    Given the DR stacks as synthesized from this repository
    When requirement DR-RES-01 is evaluated
    Then the requirement is met with no finding

  @DR-RES-01
  Scenario: Detects: deletion protection switched off
    Given the DR stacks as synthesized from this repository
    And "deletion_protection_enabled" is removed from "aws_dynamodb_table.orders_table" in a copy of the stacks
    When requirement DR-RES-01 is evaluated
    Then the requirement fails and names the changed resource
