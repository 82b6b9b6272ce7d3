Feature: Resilience of the recovery copies and their inventory
  The second region is only a recovery option while its copy of the data
  exists. Deletion protection keeps one mistaken change or console click
  from deleting a database or its replica, and a final snapshot keeps the
  data even when a cluster is deliberately deleted. During an incident the
  tags tell responders which environment a resource belongs to, who owns it
  and which recovery tier it is in, in both regions.

  Background:
    Given the DR stacks as synthesized from this repository

  @DR-RES-01 @nist:CP-9 @nist:SI-12 @nist:CM-3 @soc2:A1.2 @iso27001:A.8.13
  Scenario: The databases and their replicas are protected from deletion and keep a final snapshot
    When requirement DR-RES-01 is evaluated
    Then the requirement is met with no finding
    And at least 4 resources were evaluated

  @DR-RES-01 @nist:CP-9 @nist:SI-12 @nist:CM-3 @soc2:A1.2 @iso27001:A.8.13
  Scenario Outline: A database that can be deleted, or deleted without a snapshot, is reported
    Given the change "<change>" is made to a copy of the stacks
    When requirement DR-RES-01 is evaluated
    Then the requirement fails and names the changed resource

    Examples:
      | change                                           |
      | deletion protection off on the secondary cluster |
      | primary cluster skips its final snapshot         |
      | deletion protection off on the global cluster    |
      | table deletion protection off                    |
      | replica deletion protection off                  |

  @DR-RES-02 @nist:CM-8 @nist:PM-5 @soc2:CC2.1 @iso27001:A.5.9
  Scenario: Every taggable resource carries the required tags
    When requirement DR-RES-02 is evaluated
    Then the requirement is met with no finding
    And at least 40 resources were evaluated

  @DR-RES-02 @nist:CM-8 @nist:PM-5 @soc2:CC2.1 @iso27001:A.5.9
  Scenario Outline: A resource without a required tag is reported
    Given the change "<change>" is made to a copy of the stacks
    When requirement DR-RES-02 is evaluated
    Then the requirement fails and names the changed resource

    Examples:
      | change                           |
      | provider default tags lose Owner |
      | table tags blank the environment |
      | replica stops propagating tags   |
