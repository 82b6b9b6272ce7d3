Feature: Access to the recovery path
  Failing over is done by code: a function in the secondary region promotes
  the database when the primary's health alarm fires, and Route 53 decides
  where clients go by probing a health endpoint in each region. Whoever can
  act as those functions, or invoke them, can trigger or block a failover.
  So every grant names exactly the actions and resources it needs, only the
  Lambda service can assume a function's role, and the only endpoint anyone
  can reach without signing is the health check Route 53 probes. An accepted
  exception is recorded as a waiver and stays visible in every report.

  Background:
    Given the DR stacks as synthesized from this repository

  @DR-IAM-01
  Scenario: Every grant names its actions and resources, and only Lambda assumes the function roles
    When requirement DR-IAM-01 is evaluated
    Then the requirement is met with no finding
    And at least 6 resources were evaluated

  @DR-IAM-01
  Scenario Outline: Detects: a grant or a trust wider than needed
    Given the change "<change>" is made to a copy of the stacks
    When requirement DR-IAM-01 is evaluated
    Then the requirement fails and names the changed resource

    Examples:
      | change                                                        |
      | failover grants widened to every RDS action                   |
      | health-check grants on every resource                         |
      | failover grants replaced by a JSON policy allowing everything |
      | failover role also trusted by EC2                             |
      | failover role given AdministratorAccess                       |

  @DR-IAM-01
  Scenario: An accepted exception is reported as waived and stays visible
    Given the change "failover grants widened to every RDS action" is made to a copy of the stacks
    And the finding of DR-IAM-01 on the changed resource is waived by "vendor runbook needs rds:* until the Q3 rewrite" for 60 days
    When requirement DR-IAM-01 is evaluated
    Then the requirement is waived and the finding stays visible

  @DR-IAM-02
  Scenario: Only the endpoints the Route 53 health checks probe are public
    When requirement DR-IAM-02 is evaluated
    Then the requirement is met with no finding
    And at least 2 resources were evaluated

  @DR-IAM-02
  Scenario Outline: Detects: a function anyone can invoke without signing
    Given the change "<change>" is made to a copy of the stacks
    When requirement DR-IAM-02 is evaluated
    Then the requirement fails and names the changed resource

    Examples:
      | change                                       |
      | public Function URL on the failover function |
      | failover function opened to anyone           |
