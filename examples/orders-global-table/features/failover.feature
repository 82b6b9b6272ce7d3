Feature: The orders name fails over to the healthy region
  Route 53 answers api.orders.example.com with the us-east-1 endpoint while
  its health check passes and with the us-west-2 endpoint when it does not.
  Each health check probes its region's endpoint over HTTPS and alarms to an
  encrypted topic, also when the checks go silent.

  @DR-RTO-02
  Scenario: A health-checked PRIMARY/SECONDARY pair routes to the two regions
    Given the DR stacks as synthesized from this repository
    When requirement DR-RTO-02 is evaluated
    Then the requirement is met with no finding

  @DR-RTO-01
  Scenario: Detection and DNS caching fit the recovery time objective
    Given the DR stacks as synthesized from this repository
    When requirement DR-RTO-01 is evaluated
    Then the requirement is met with no finding

  @DR-MON-01
  Scenario: Every health check alarms to an encrypted topic
    Given the DR stacks as synthesized from this repository
    When requirement DR-MON-01 is evaluated
    Then the requirement is met with no finding
    And at least 2 resources were evaluated

  @DR-ENC-01
  Scenario: Detects: the alert topic without its customer-managed key
    Given the DR stacks as synthesized from this repository
    And "kms_master_key_id" is removed from "aws_sns_topic.alerts" in a copy of the stacks
    When requirement DR-ENC-01 is evaluated
    Then the requirement fails and names the changed resource

  @DR-HA-01
  Scenario: No VPC, so no subnet layout to judge
    Given the DR stacks as synthesized from this repository
    When requirement DR-HA-01 is evaluated
    Then the requirement is not applicable
