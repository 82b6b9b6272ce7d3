Feature: The configuration matches the pinned AWS provider
  A disaster-recovery design is only as good as the settings that reach the
  cloud. A misnamed resource type, argument or block stops Terraform at plan
  time, possibly in the middle of a recovery change. Worse, a setting can
  vanish without an error on the way from the source to the configuration:
  a plain dictionary handed to a list of nested blocks loses its misspelled
  or snake_case keys silently, leaving a replica without its key or region,
  or a route table whose every route is empty. So every resource, argument
  and nested block is checked against the schema of the exact provider
  version the design is built with, read offline from the installed
  provider package; every nested block must carry what the provider
  requires; and the source must build nested blocks from the provider's
  typed structures, which reject unknown keys, never from plain
  dictionaries.

  Background:
    Given the DR stacks as synthesized from this repository

  @DR-SCH-01
  Scenario: Every resource, argument and block is one the pinned provider defines, in its shape
    When requirement DR-SCH-01 is evaluated
    Then the requirement is met with no finding
    And at least 60 resources were evaluated

  @DR-SCH-01
  Scenario Outline: Detects: a name the provider does not know, or a block of the wrong shape
    Given the change "<change>" is made to a copy of the stacks
    When requirement DR-SCH-01 is evaluated
    Then the requirement fails and names the changed resource

    Examples:
      | change                                 |
      | aurora argument misspelled             |
      | replica key misspelled                 |
      | point-in-time recovery given as a list |
      | replicas given as one object           |
      | resource type misspelled               |

  @DR-SCH-02
  Scenario: Every nested block carries the keys the provider requires, and none is empty
    When requirement DR-SCH-02 is evaluated
    Then the requirement is met with no finding
    And at least 60 resources were evaluated

  @DR-SCH-02
  Scenario Outline: Detects: a block that lost a required key, or an empty list entry
    Given the change "<change>" is made to a copy of the stacks
    When requirement DR-SCH-02 is evaluated
    Then the requirement fails and names the changed resource

    Examples:
      | change                           |
      | replica region dropped           |
      | route table with an empty route  |
      | failover policy without its type |

  @DR-SCH-03
  Scenario: The source builds every nested block from the provider's typed structures
    When requirement DR-SCH-03 is evaluated
    Then the requirement is met with no finding
    And at least 10 resources were evaluated

  @DR-SCH-03
  Scenario Outline: Detects: a plain dictionary passed for a nested block in the source
    Given the change "<change>" is made to a copy of the stacks
    When requirement DR-SCH-03 is evaluated
    Then the requirement fails and names the changed resource

    Examples:
      | change                         |
      | replica passed as a plain dict |
