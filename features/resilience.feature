Feature: Resilience of the recovery copies and their inventory
  The second region is only a recovery option while its copy of the data
  exists. Deletion protection keeps one mistaken change or console click
  from deleting a database or its replica, and a final snapshot keeps the
  data even when a cluster is deliberately deleted. During an incident the
  tags tell responders which environment a resource belongs to, who owns it
  and which recovery tier it is in, in both regions.

  Background:
    Given the DR stacks as synthesized from this repository

  @DR-RES-01
  Scenario: The databases and their replicas are protected from deletion and keep a final snapshot
    When requirement DR-RES-01 is evaluated
    Then the requirement is met with no finding
    And at least 4 resources were evaluated

  @DR-RES-01
  Scenario Outline: Detects: a database that can be deleted, or deleted without a snapshot
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

  @DR-RES-02
  Scenario: Every taggable resource carries the required tags
    When requirement DR-RES-02 is evaluated
    Then the requirement is met with no finding
    And at least 40 resources were evaluated

  @DR-RES-02
  Scenario Outline: Detects: a resource without a required tag
    Given the change "<change>" is made to a copy of the stacks
    When requirement DR-RES-02 is evaluated
    Then the requirement fails and names the changed resource

    Examples:
      | change                           |
      | provider default tags lose Owner |
      | table tags blank the environment |
      | replica stops propagating tags   |
