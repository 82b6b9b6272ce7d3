Feature: The surviving region takes the whole load
  The orders team's own requirement (policies/ord_cap_01.rego, added beside
  the harness's policies): the tables bill per request, so the region that
  receives the failover traffic does not throttle it.

  @ORD-CAP-01
  Scenario: The orders table bills per request
    Given the DR stacks as synthesized from this repository
    When requirement ORD-CAP-01 is evaluated
    Then the requirement is met with no finding
    And at least 1 resources were evaluated

  @ORD-CAP-01
  Scenario: Detects: a table switched to provisioned capacity
    Given the DR stacks as synthesized from this repository
    And "billing_mode" of "aws_dynamodb_table.orders_table" is set to "PROVISIONED" in a copy of the stacks
    When requirement ORD-CAP-01 is evaluated
    Then the requirement fails and names the changed resource

  @ORD-CAP-01
  Scenario: Detects: the legacy single-region table of another team
    Given the example configuration "legacy-orders.tf.json" written by another team
    When requirement ORD-CAP-01 is evaluated
    Then the requirement fails with a finding on "aws_dynamodb_table.legacy_orders"
