Feature: Monitoring of regional health
  Route 53 health checks decide when DNS moves traffic to the other region,
  but people must know too: to confirm the failover, start the runbook and
  repair the lost region. Each health check therefore raises a CloudWatch
  alarm in us-east-1, the only region where Route 53 publishes its health
  metrics, and the alarm notifies an encrypted SNS topic. A health check
  that stops reporting is treated as a failure, never as good news, so a
  silent outage cannot hide behind missing data.

  Background:
    Given the DR stacks as synthesized from this repository

  @DR-MON-01
  Scenario: Every health check has a status alarm that treats silence as failure
    When requirement DR-MON-01 is evaluated
    Then the requirement is met with no finding
    And at least 4 resources were evaluated

  @DR-MON-01
  Scenario Outline: Detects: a health check whose failure would go unnoticed
    Given the change "<change>" is made to a copy of the stacks
    When requirement DR-MON-01 is evaluated
    Then the requirement fails and names the changed resource

    Examples:
      | change                                            |
      | health alarm treats missing data as not breaching |
      | health check status alarm removed                 |
